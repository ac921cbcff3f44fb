"""A PostgreSQL server embedded in the project, for machines without one.

With no DATABASE_URL the settings point Django at this backend: the first
connection a process opens starts (or attaches to) the server whose data lives
in ``EMBEDDED_POSTGRES_DIR``.  pgserver keeps a list of the processes holding
the server and stops it cleanly when the last one exits, so the run command, a
management command and the test suite can share one data directory safely.
"""
