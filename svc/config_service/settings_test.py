import pytest
from pydantic import ValidationError

from config_service.settings import Settings


def test_defaults_describe_a_local_service(monkeypatch):
    for name in ("DATABASE_URL", "PORT", "HOST", "API_READ_TOKENS", "API_WRITE_TOKENS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.dsn == "postgresql://postgres:postgres@127.0.0.1:5432/config_service"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.auth_enabled is False


def test_environment_overrides_and_tokens_are_comma_separated(monkeypatch):
    monkeypatch.setenv("PORT", "9001")
    monkeypatch.setenv("API_READ_TOKENS", " reader-1, reader-2 ,")
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    settings = Settings(_env_file=None)
    assert settings.port == 9001
    assert settings.api_read_tokens == {"reader-1", "reader-2"}
    assert settings.auth_enabled is True
    assert settings.log_level == "warning"


def test_env_file_is_read(tmp_path, monkeypatch):
    monkeypatch.delenv("PORT", raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text("PORT=8123\nWORKERS=3\n")
    settings = Settings(_env_file=env_file)
    assert (settings.port, settings.workers) == (8123, 3)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "not-a-port"),
        ("PORT", "70000"),
        ("DATABASE_URL", "mysql://nope"),
        ("LOG_FORMAT", "xml"),
        ("DB_POOL_SIZE", "0"),
        ("REVISIONS_KEEP", "-1"),
    ],
)
def test_invalid_values_name_the_setting(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None)
    assert name.lower() in str(caught.value)


def test_an_invalid_tokens_file_is_an_invalid_setting_naming_the_entry(tmp_path, monkeypatch):
    from test.tokens import FileToken, write_tokens_file

    path = write_tokens_file(tmp_path / "tokens.toml", FileToken("ci-payments", "admin", ("*",)))
    monkeypatch.setenv("API_TOKENS_FILE", str(path))
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None)
    assert "api_tokens_file" in str(caught.value)
    assert "token 'ci-payments': `role`" in str(caught.value)


def test_a_tokens_file_enables_auth_and_may_not_repeat_an_environment_token(tmp_path, monkeypatch):
    from test.tokens import FileToken, write_tokens_file

    token = FileToken("ci", "write", ("*",))
    path = write_tokens_file(tmp_path / "tokens.toml", token)
    monkeypatch.delenv("API_READ_TOKENS", raising=False)
    monkeypatch.delenv("API_WRITE_TOKENS", raising=False)
    monkeypatch.setenv("API_TOKENS_FILE", str(path))
    assert Settings(_env_file=None).auth_enabled is True
    monkeypatch.setenv("API_READ_TOKENS", token.secret)
    with pytest.raises(ValidationError, match="also in the file"):
        Settings(_env_file=None)
