"""Configurations: models, command and query handlers, revisions and history, and the router
of /api/v1/configurations.

A resource may import the shared vocabulary, `access`, `telemetry`, the store and the HTTP
edge; never the read side (it reaches memory through the bus) or the process.
"""
