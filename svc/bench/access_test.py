from bench import access
from config_service.access.tokens import TokenTable, read_tokens_file


def test_the_tokens_file_has_fifty_entries_one_global_and_one_scoped_to_the_seeded_names(
    tmp_path,
):
    global_headers, scoped_headers = access.tokens_file(tmp_path / "tokens.toml")
    table = TokenTable.of(read_tokens_file(tmp_path / "tokens.toml"))
    assert len(table) == access.ENTRIES

    def caller(headers):
        return table.find(headers["Authorization"].removeprefix("Bearer ").encode()).caller

    assert caller(global_headers).scope.everything
    scoped = caller(scoped_headers).scope
    assert not scoped.everything and scoped.allows("bench-app-7") and not scoped.allows("team-1")
