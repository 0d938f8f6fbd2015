from config_service.json_schema.violations import Run, UnsupportedSchema, Violation, pointer


def test_a_path_is_shown_as_a_json_pointer_with_escapes():
    assert pointer(("pools", 0, "a/b~c")) == "/pools/0/a~1b~0c"
    assert pointer(()) == ""


def test_an_unsupported_schema_carries_every_problem():
    problems = [Violation(("a",), "foo", 'unknown keyword "foo"'), Violation((), "$size", "big")]
    assert UnsupportedSchema(problems).problems == problems


def test_a_run_starts_with_its_budget_and_no_violation():
    run = Run(10)
    assert (run.steps, run.violations) == (10, [])
