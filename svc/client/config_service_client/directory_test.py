"""Reading the directory apply makes true."""

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
