"""The official JSON Schema Test Suite's files vendored in test/json_schema_suite/, by group,
and the groups whose schemas the service refuses (they use what the subset leaves out)."""

import json
from pathlib import Path

SUITE = Path(__file__).parent / "json_schema_suite"

# Groups of the official suite whose schemas are refused, as they use what the subset leaves
# out, and words one of the refusal's messages holds. docs/schemas.md lists them too.
REFUSED_GROUPS = {
    ("additionalProperties.json", "dependentSchemas with additionalProperties"): "dependentSchemas",
    ("defs.json", "validate definition against metaschema"): "remote $ref",
    ("not.json", "collect annotations inside a 'not', even if collection is disabled"): (
        "unevaluatedProperties"
    ),
    ("ref.json", "remote ref, containing refs itself"): "remote $ref",
    ("ref.json", "ref creates new scope when adjacent to keywords"): "unevaluatedProperties",
    ("ref.json", "order of evaluation: $id and $anchor and $ref"): "$anchor",
    ("ref.json", "URN base URI with URN and anchor ref"): "$anchor",
}


def suite_groups() -> dict[tuple[str, str], dict]:
    return {
        (path.name, group["description"]): group
        for path in sorted(SUITE.glob("*.json"))
        for group in json.loads(path.read_text())
    }
