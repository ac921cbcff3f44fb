import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.helpers import run_manage
from vss_program.env import env_bool, env_int, env_list, env_str

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "kq3-p8Zr!uV2mWx7yTb4nLs9eHd6jFc1gQa5oRi0tYe8wSz3vNb",
    "ALLOWED_HOSTS": "bhxh.example.gov.vn",
    "DATABASE_URL": "postgres://vss:secret@db.example.gov.vn:5432/vss_program",
}


@pytest.mark.parametrize(
    ("raw", "expected"), [("true", True), ("1", True), ("Yes", True), ("off", False), ("0", False)]
)
def test_env_bool_reads_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("FEATURE", raw)
    assert env_bool("FEATURE", default=not expected) is expected


def test_env_bool_names_the_variable_and_value_it_cannot_read(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DEBUG='maybe' is not a boolean"):
        env_bool("DEBUG", default=False)


def test_env_int_refuses_words_and_numbers_below_the_minimum(monkeypatch):
    monkeypatch.setenv("CONN_MAX_AGE", "sixty")
    with pytest.raises(ImproperlyConfigured, match="CONN_MAX_AGE='sixty' is not a whole number"):
        env_int("CONN_MAX_AGE", 60)
    monkeypatch.setenv("CONN_MAX_AGE", "-1")
    with pytest.raises(ImproperlyConfigured, match="below the minimum of 0"):
        env_int("CONN_MAX_AGE", 60, minimum=0)


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", " a.gov.vn, ,b.gov.vn ")
    assert env_list("ALLOWED_HOSTS", []) == ["a.gov.vn", "b.gov.vn"]
    monkeypatch.delenv("ALLOWED_HOSTS")
    assert env_list("ALLOWED_HOSTS", ["localhost"]) == ["localhost"]


def test_a_secret_can_come_from_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv("SECRET_KEY_FILE", str(secret))
    assert env_str("SECRET_KEY") == "from-a-file"
    monkeypatch.setenv("SECRET_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY_FILE=.* cannot be read"):
        env_str("SECRET_KEY")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean"),
        ("TIME_ZONE", "Asia/Hanoi_City", "TIME_ZONE='Asia/Hanoi_City' is not a known time zone"),
        ("DATABASE_URL", "mysql://root@localhost/vss", "DATABASE_URL must point at PostgreSQL"),
        ("LANGUAGE_CODE", "fr", "LANGUAGE_CODE='fr' is not one of vi, en"),
        ("SECRET_KEY", "", "SECRET_KEY is not set"),
        ("ALLOWED_HOSTS", "", "ALLOWED_HOSTS is not set"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT='xml' is not one of json, text"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL='LOUD' is not one of DEBUG, INFO, WARNING"),
        ("DATABASE_CONNECT_TIMEOUT", "1", "DATABASE_CONNECT_TIMEOUT=1 is below the minimum of 2"),
    ],
)
def test_the_site_refuses_to_start_with_a_malformed_variable(variable, value, message):
    result = run_manage("check", env=PRODUCTION | {variable: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_check_deploy_reports_nothing_in_production_mode():
    result = run_manage("check", "--deploy", "--fail-level", "DEBUG", env=PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_development_mode_makes_and_keeps_its_own_secret_key(tmp_path):
    env = {"DEBUG": "true", "VAR_DIR": str(tmp_path), "DATABASE_URL": PRODUCTION["DATABASE_URL"]}
    printed = "from django.conf import settings; print(settings.SECRET_KEY)"
    first = run_manage("shell", "-c", printed, env=env)
    second = run_manage("shell", "-c", printed, env=env)
    assert first.returncode == 0, first.stderr
    assert len(first.stdout.strip()) >= 50
    assert first.stdout == second.stdout
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_connections_to_the_database_and_its_replica_give_up_after_the_connect_timeout():
    printed = (
        "from django.conf import settings; "
        "print([settings.DATABASES[name]['OPTIONS']['connect_timeout'] "
        "for name in ('default', 'replica')])"
    )
    replica = "postgres://vss@replica.example.gov.vn:5432/vss_program"
    env = PRODUCTION | {"DATABASE_REPLICA_URL": replica}

    def timeouts(**variables: str) -> str:
        result = run_manage("shell", "--no-imports", "-c", printed, env=env | variables)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert timeouts() == "[5, 5]"
    assert timeouts(DATABASE_CONNECT_TIMEOUT="2") == "[2, 2]"
    # A connect_timeout written in the URL wins.
    assert timeouts(DATABASE_REPLICA_URL=replica + "?connect_timeout=9") == "[5, 9]"
