"""A PostgreSQL server embedded in the project, for machines without one.

With no DATABASE_URL the settings point Django at this backend: the first
connection a process opens starts (or attaches to) the server whose data lives
in ``EMBEDDED_POSTGRES_DIR``.  pgserver keeps a list of the processes holding
the server and stops it cleanly when the last one exits, so the run command, a
management command and the test suite can share one data directory safely.
"""

import signal
import threading


def exit_cleanly_on_sigterm() -> None:
    """Make SIGTERM run exit handlers, so the last process leaving stops the server.

    Python's default for SIGTERM ends the process without them.  Called from the
    settings, which load in the main thread (the only one that may set a
    handler); servers that handle the signal themselves (gunicorn) are left alone.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _raise_system_exit)


def _raise_system_exit(signum, frame):
    raise SystemExit(128 + signum)
