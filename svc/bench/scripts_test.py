import json
import re

from bench import scripts


def lua_strings(script: str) -> list[str]:
    return [json.loads(literal) for literal in re.findall(r'"(?:[^"\\]|\\.)*"', script)]


def test_get_each_cycles_through_every_path():
    script = scripts.get_each(["/a", "/b"])
    assert "request = function()" in script
    assert lua_strings(script).count("GET") == 2
    assert "/a" in lua_strings(script) and "/b" in lua_strings(script)


def test_revalidate_each_sends_the_etag():
    script = scripts.revalidate_each([("/a", '"tag"')])
    assert '"If-None-Match"' in script
    assert '"tag"' in lua_strings(script)


def test_post_names_are_new_in_every_script():
    first = scripts.post_new_configurations(["APP"], {"k": 1})
    second = scripts.post_new_configurations(["APP"], {"k": 1})
    prefix = re.compile(r'prefix = "(bench-[0-9a-f]+-)"')
    assert prefix.search(first).group(1) != prefix.search(second).group(1)
    config_literal = re.search(r"^config = (.*)$", first, re.MULTILINE).group(1)
    assert json.loads(json.loads(config_literal)) == {"k": 1}


def test_put_each_keeps_each_configurations_name_and_config_and_changes_its_comments():
    script = scripts.put_each([{"id": "ID1", "name": "n1", "config": {"a": 1}}])
    strings = lua_strings(script)
    assert strings[:3] == ["ID1", '"n1"', '{"a": 1}']
    assert '"comments": "\' .. prefix .. i .. \'"' in script  # new comments on every PUT
    other = scripts.put_each([{"id": "ID1", "name": "n1", "config": {"a": 1}}])
    prefix = re.compile(r'prefix = "(put-[0-9a-f]+-)"')
    assert prefix.search(script).group(1) != prefix.search(other).group(1)
