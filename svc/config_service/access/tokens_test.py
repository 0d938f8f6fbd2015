import hashlib
import string
from datetime import UTC, datetime

import pytest
from test.tokens import FileToken, write_tokens_file

from config_service.access.scope import EVERYTHING
from config_service.access.tokens import (
    TOKEN_NAME,
    TokensFileError,
    TokenTable,
    environment_tokens,
    generated_name,
    read_tokens_file,
)

DIGEST = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"  # of "test"


def entry(**fields) -> str:
    values = {
        "name": '"ci-payments"',
        "sha256": f'"{DIGEST}"',
        "role": '"write"',
        "applications": '["payments", "payments-*"]',
        **fields,
    }
    return "[[token]]\n" + "".join(f"{k} = {v}\n" for k, v in values.items() if v is not None)


def read(tmp_path, text: str):
    path = tmp_path / "tokens.toml"
    path.write_text(text)
    return read_tokens_file(path)


def test_an_entry_becomes_a_named_scoped_caller(tmp_path):
    [token] = read(tmp_path, entry(expires="2027-01-31T00:00:00+01:00"))
    assert token.caller.name == "ci-payments"
    assert token.caller.role == "write" and token.caller.may_write
    assert token.caller.scope.allows("payments-api") and not token.caller.scope.allows("billing")
    assert token.digest == DIGEST
    assert token.expires == datetime(2027, 1, 30, 23, 0, tzinfo=UTC)
    assert TokenTable.of([token]).find(b"test") is token
    assert TokenTable.of([token]).find(b"Test") is None


def test_upper_case_digests_and_string_instants_are_accepted(tmp_path):
    [token] = read(tmp_path, entry(sha256=f'"{DIGEST.upper()}"', expires='"2027-01-31T00:00:00Z"'))
    assert token.digest == DIGEST
    assert token.expired(datetime(2027, 1, 31, tzinfo=UTC))
    assert not token.expired(datetime(2027, 1, 30, 23, 59, tzinfo=UTC))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"role": '"admin"'}, "token 'ci-payments': `role`"),
        ({"role": None}, "token 'ci-payments': `role` is missing"),
        ({"sha256": '"test"'}, "token 'ci-payments': `sha256`"),
        ({"applications": "[]"}, "token 'ci-payments': `applications`"),
        ({"applications": '"payments"'}, "token 'ci-payments': `applications`"),
        ({"applications": '["pay*ments"]'}, "token 'ci-payments': `applications`: pattern"),
        ({"name": '"has space"'}, "token 'has space': `name`"),
        ({"name": '"db:postgres"'}, "token 'db:postgres': `name`"),  # a database role's mark
        ({"name": None}, "token #1: `name` is missing"),
        ({"name": "3"}, "token #1: `name`"),
        ({"aplications": '["x"]'}, "unknown key 'aplications'"),
        ({"expires": "2027-01-31T00:00:00"}, "`expires` must be an instant with its offset"),
        ({"expires": '"soon"'}, "`expires` 'soon' is not an RFC 3339 instant"),
    ],
)
def test_an_invalid_entry_is_refused_naming_it(tmp_path, fields, message):
    with pytest.raises(TokensFileError) as caught:
        read(tmp_path, entry(**fields))
    assert message in str(caught.value)


def test_the_refusal_of_a_name_lists_exactly_the_marks_a_name_may_have(tmp_path):
    with pytest.raises(TokensFileError) as caught:
        read(tmp_path, entry(name='"db:postgres"'))
    listed = str(caught.value).split("letters, digits or ")[1].split(" ")[0]
    marks = {character for character in string.punctuation if TOKEN_NAME.fullmatch(f"a{character}")}
    assert set(listed) == marks == set("._@-")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[token]\n", "not valid TOML"),
        ("", "defines no [[token]]"),
        ("token = 3\n", "array of tables"),
        ("tokens = []\n", "unknown key 'tokens'"),
    ],
)
def test_an_invalid_file_is_refused(tmp_path, text, message):
    with pytest.raises(TokensFileError) as caught:
        read(tmp_path, text)
    assert message in str(caught.value)


def test_a_missing_or_binary_file_is_refused(tmp_path):
    with pytest.raises(TokensFileError, match="cannot read"):
        read_tokens_file(tmp_path / "absent.toml")
    (tmp_path / "binary.toml").write_bytes(b"\xff\xfe")
    with pytest.raises(TokensFileError, match="not UTF-8"):
        read_tokens_file(tmp_path / "binary.toml")


def test_duplicate_names_and_digests_are_refused_naming_the_entry(tmp_path):
    one, two = FileToken("one", "read", ("a",)), FileToken("two", "read", ("a",))
    path = tmp_path / "tokens.toml"
    write_tokens_file(path, one, FileToken("one", "read", ("b",)))
    with pytest.raises(TokensFileError, match="token 'one': its name is taken twice"):
        TokenTable.of(read_tokens_file(path))
    write_tokens_file(path, one, FileToken("two", "read", ("b",), secret=one.secret))
    with pytest.raises(
        TokensFileError, match="token 'two': its sha256 is also that of token 'one'"
    ):
        TokenTable.of(read_tokens_file(path))
    write_tokens_file(path, one, two)
    assert len(TokenTable.of(read_tokens_file(path))) == 2


def test_environment_tokens_are_global_with_stable_names_that_hide_the_secret():
    secret = "s3cr3t-value"
    [writer, reader] = environment_tokens(["other"], [secret])
    assert writer.caller.scope is EVERYTHING and writer.caller.may_write
    assert reader.caller.role == "read" and not reader.caller.may_write
    assert writer.caller.name == generated_name("write", secret)  # the same every time
    assert writer.caller.name.startswith("write-") and len(writer.caller.name) == 14
    digest = hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in writer.caller.name and writer.caller.name[6:] not in digest
    assert generated_name("read", secret)[5:] == writer.caller.name[6:]
    assert generated_name("write", "s3cr3t-valuf") != writer.caller.name
