import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent

# Variables that steer the settings: each test states its own.
_SETTINGS_VARIABLES = {
    "DATABASE_URL",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DJANGO_SETTINGS_MODULE",
    "EMBEDDED_POSTGRES_DIR",
    "VAR_DIR",
}


def manage_env(env: dict[str, str]) -> dict[str, str]:
    """Return this process's environment without settings variables, plus ``env``."""
    inherited = {k: v for k, v in os.environ.items() if k not in _SETTINGS_VARIABLES}
    return inherited | env


def manage_args(*args: str) -> list[str]:
    return [sys.executable, str(PROJECT_DIR / "manage.py"), *args]


def run_manage(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess:
    """Run ``manage.py`` in a new process, as a user would, and wait for it."""
    return subprocess.run(
        manage_args(*args),
        env=manage_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=PROJECT_DIR,
    )


def current_database_env() -> dict[str, str]:
    """Return the settings variables that point a new process at this test database."""
    from django.db import connection

    settings = connection.settings_dict
    url = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    return {"DATABASE_URL": url, "DEBUG": "true"}
