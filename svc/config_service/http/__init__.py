"""The HTTP edge: everything about a request that is not a resource's own rule.

Request ids and the request log, body and query-parameter checks, HEAD, problem+json,
conditional responses, routing helpers, the OpenAPI document and the docs pages, and the
bearer-token middleware. It may import the shared vocabulary at the top of `config_service`,
`access` and `telemetry`; never the store, the read side, the resources or the process.
"""
