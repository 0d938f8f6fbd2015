"""Access: bearer tokens with names, roles and scopes, their reload, and the scope decisions
that make what a token may not see look like what does not exist.

It may import only the shared vocabulary's plain values (errors, keys, representation).
"""
