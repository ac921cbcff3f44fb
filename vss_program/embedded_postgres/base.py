from pathlib import Path

from django.conf import settings
from django.db.backends.postgresql import base as postgresql

from .server import ensure_server


class DatabaseWrapper(postgresql.DatabaseWrapper):
    """The PostgreSQL backend, pointed at the embedded server's socket."""

    def get_connection_params(self):
        socket_dir = ensure_server(
            Path(settings.EMBEDDED_POSTGRES_DIR), settings.EMBEDDED_POSTGRES_DATABASE
        )
        params = super().get_connection_params()
        params["host"] = str(socket_dir)
        params["user"] = "postgres"
        return params
