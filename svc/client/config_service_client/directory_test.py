"""Reading the directory apply makes true."""

import json

import pytest

from config_service_client.directory import Desired, DirectoryError, read_directory


def test_configurations_with_and_without_comments(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / ".git").mkdir()
    (tmp_path / "app" / "b.json").write_text('{"x": 1}')
    (tmp_path / "app" / "a.json").write_text("{}")
    (tmp_path / "app" / "a.comments.txt").write_text("why\n")
    assert read_directory(tmp_path) == {
        "app": [Desired("app", "a", {}, "why"), Desired("app", "b", {"x": 1}, None)]
    }


@pytest.mark.parametrize(("text", "message"), [("[1]", "a JSON object"), ("{", "readable JSON")])
def test_a_file_that_is_not_a_json_object_is_an_error_naming_it(tmp_path, text, message):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "c.json").write_text(text)
    with pytest.raises(DirectoryError, match=f"c.json: .*{message}"):
        read_directory(tmp_path)
    with pytest.raises(DirectoryError, match="not a directory"):
        read_directory(tmp_path / "missing")


def test_a_dollar_schema_path_names_the_schema_and_leaves_the_config(tmp_path):
    (tmp_path / "shop").mkdir()
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "pool.json").write_text(
        json.dumps({"$schema": "https://json-schema.org/draft/2020-12/schema"})
    )
    (tmp_path / "shop" / "db.json").write_text(
        json.dumps({"$schema": "../shared/pool.json", "a": 1})
    )
    read = read_directory(tmp_path)
    [db] = read["shop"]
    assert (db.config, db.schema) == ({"a": 1}, ("shared", "pool"))
    [pool] = read["shared"]
    assert pool.schema is None and pool.config["$schema"].startswith("https://")
    (tmp_path / "shop" / "db.json").write_text(json.dumps({"$schema": "./missing.json"}))
    with pytest.raises(DirectoryError, match="no such file"):
        read_directory(tmp_path)
