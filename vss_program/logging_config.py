"""How the site and gunicorn log: one line per record, JSON in production.

See README, "Running in production" (Logs).

Kept apart from the settings, with no import of Django's apps, so that
gunicorn.conf.py can give gunicorn's own lines (workers booted, timed out) the
same shape as the site's.
"""

from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS

from vss_program.env import env_choice

LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

FORMATTERS: dict[str, dict[str, Any]] = {
    # One JSON object per line; every `extra` of a record (the request log's
    # method, path, status, duration_ms) and the request filter's request_id and
    # user_id become keys of their own.
    "json": {
        "()": "pythonjsonlogger.json.JsonFormatter",
        "fmt": "%(levelname)s %(name)s %(message)s",
        "rename_fields": {"levelname": "level", "name": "logger"},
        "timestamp": "time",
        # Django's `request` extra (django.request, django.server) would be written
        # as its repr, which holds the query string, where searched ID numbers go.
        "reserved_attrs": [*RESERVED_ATTRS, "request", "server_time"],
    },
    "text": {
        "()": "logging.Formatter",
        "fmt": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        # Lines written outside a request (start-up, commands) have no id.
        "defaults": {"request_id": "-"},
    },
}


def log_format(*, debug: bool) -> str:
    """Return LOG_FORMAT: ``text`` by default in development, ``json`` in production."""
    return env_choice("LOG_FORMAT", "text" if debug else "json", LOG_FORMATS)


def log_level() -> str:
    """Return LOG_LEVEL (default INFO), in capitals as logging names its levels."""
    return env_choice("LOG_LEVEL", "INFO", LOG_LEVELS, case=str.upper)


def site_logging(*, debug: bool) -> dict[str, Any]:
    """Return the site's LOGGING: every record through one handler on standard error."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request": {"()": "vss_program.request_log.RequestContextFilter"}},
        "formatters": {"line": FORMATTERS[log_format(debug=debug)]},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "line",
                "filters": ["request"],
            }
        },
        "root": {"handlers": ["console"], "level": log_level()},
        "loggers": {
            # Django's defaults give "django" a console of its own (each line twice in
            # development, never as JSON) and hold it at INFO whatever LOG_LEVEL says.
            "django": {"handlers": [], "level": "NOTSET", "propagate": True},
            # The development server's line per request: the request log writes it.
            "django.server": {"handlers": [], "level": "ERROR", "propagate": True},
            "pgserver": {"level": "WARNING"},
            # axes: failed sign-ins and lock-outs are warnings; its start-up banner and
            # successful sign-ins (INFO) would fill the log.
            "axes": {"level": "WARNING"},
            # One line per trigger on every migrate otherwise.
            "pgtrigger": {"level": "WARNING"},
        },
    }


def gunicorn_logging(*, debug: bool) -> dict[str, Any]:
    """Return gunicorn's logconfig_dict: its own lines in the site's format, on standard error.

    Its access log stays off: the site's request log writes one line per request.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": FORMATTERS[log_format(debug=debug)]},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "line"}},
        "root": {"handlers": ["console"], "level": log_level()},
        "loggers": {"gunicorn.error": {"handlers": [], "level": log_level(), "propagate": True}},
    }
