"""JSON Schema: the subset of draft 2020-12 the service validates configurations with
(docs/schemas.md), checked against the official test suite (test/json_schema_suite/).

A library of its own: `validator.compile_schema(schema).validate(document)`. It imports
nothing of the service, and only the resources' schema checks import it.
"""
