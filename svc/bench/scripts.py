"""wrk Lua scripts: each cycles through a list of requests built from the seeded data."""

import json
import uuid

REQUEST_LOOP = """
local i = 0
request = function()
  i = i + 1
  local r = requests[(i % #requests) + 1]
  return wrk.format(r[1], r[2], r[3], r[4])
end
"""


def _lua_string(text: str) -> str:
    # A JSON string literal is a valid Lua string literal for the ASCII text used here.
    return json.dumps(text)


def _lua_request(method: str, path: str, headers: dict[str, str], body: str | None) -> str:
    header_table = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items())
    body_text = _lua_string(body) if body is not None else "nil"
    return f"{{{_lua_string(method)}, {_lua_string(path)}, {{{header_table}}}, {body_text}}}"


def cycling(requests: list[tuple[str, str, dict[str, str], str | None]]) -> str:
    """A script sending the given (method, path, headers, body) requests round-robin."""
    entries = ",\n  ".join(_lua_request(*request) for request in requests)
    return f"requests = {{\n  {entries}\n}}\n{REQUEST_LOOP}"


def get_each(paths: list[str]) -> str:
    return cycling([("GET", path, {}, None) for path in paths])


def revalidate_each(paths_and_etags: list[tuple[str, str]]) -> str:
    return cycling([("GET", path, {"If-None-Match": etag}, None) for path, etag in paths_and_etags])


POST_LOOP = """
local i = 0
request = function()
  i = i + 1
  local body = '{"application_id": "' .. application_ids[(i % #application_ids) + 1]
    .. '", "name": "' .. prefix .. i .. '", "config": ' .. config .. '}'
  return wrk.format("POST", "/api/v1/configurations", {["Content-Type"] = "application/json"}, body)
end
"""


def post_new_configurations(application_ids: list[str], config: dict) -> str:
    """POSTs of new configurations, spread over the applications, with names never used before."""
    ids = ", ".join(_lua_string(application_id) for application_id in application_ids)
    return (
        f"application_ids = {{{ids}}}\n"
        f"prefix = {_lua_string('bench-' + uuid.uuid4().hex[:8] + '-')}\n"
        f"config = {_lua_string(json.dumps(config))}\n{POST_LOOP}"
    )


PUT_LOOP = """
local i = 0
request = function()
  i = i + 1
  local c = configurations[(i % #configurations) + 1]
  local body = '{"name": ' .. c[2] .. ', "comments": "' .. prefix .. i .. '", "config": '
    .. c[3] .. '}'
  return wrk.format("PUT", "/api/v1/configurations/" .. c[1],
    {["Content-Type"] = "application/json"}, body)
end
"""


def put_each(configurations: list[dict]) -> str:
    """PUTs cycling through the configurations, each one a change (its comments are new):
    a PUT that changes nothing writes nothing, which would measure something else."""
    entries = ",\n  ".join(
        "{"
        + ", ".join(
            _lua_string(text) for text in (c["id"], json.dumps(c["name"]), json.dumps(c["config"]))
        )
        + "}"
        for c in configurations
    )
    return (
        f"configurations = {{\n  {entries}\n}}\n"
        f"prefix = {_lua_string('put-' + uuid.uuid4().hex[:8] + '-')}\n{PUT_LOOP}"
    )


RANDOM_LOOP = """
math.randomseed(os.time())
ids = {}
for line in io.lines(ids_file) do
  ids[#ids + 1] = line
end
request = function()
  return wrk.format("GET", prefix .. ids[math.random(#ids)])
end
"""


def get_random(prefix: str, ids_file: str) -> str:
    """GETs of `prefix` + an id picked at random from `ids_file` (one id a line) each time.

    The ids are read from a file: 100,000 of them inline would be a 4 MB Lua literal.
    """
    return f"prefix = {_lua_string(prefix)}\nids_file = {_lua_string(ids_file)}\n{RANDOM_LOOP}"
