"""Applications: models, command and query handlers, and the router of /api/v1/applications.

A resource may import the shared vocabulary, `access`, `telemetry`, the store and the HTTP
edge; never the read side (it reaches memory through the bus) or the process.
"""
