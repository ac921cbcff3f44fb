"""The embedded PostgreSQL server used when DATABASE_URL is not set.

Each step runs manage.py in a process of its own, as a user would, against a
server whose data lives in a temporary folder.
"""

import signal
import subprocess
from urllib.parse import quote

import psutil
import pytest
from django.db import connection

from tests.helpers import PROJECT_DIR, manage_args, manage_env, run_manage

SHOW_SERVER = (
    "import sys\n"
    "from django.db import connection\n"
    "with connection.cursor() as cursor:\n"
    "    cursor.execute('SELECT pg_postmaster_start_time(), current_database()')\n"
    "    print(*cursor.fetchone(), sep='|', flush=True)\n"
)


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "var" / "postgres"


def env_for(data_dir):
    return {"DEBUG": "true", "VAR_DIR": str(data_dir.parent)}


def postmaster_pid(data_dir) -> int | None:
    pid_file = data_dir / "postmaster.pid"
    if not pid_file.exists():
        return None
    return int(pid_file.read_text().splitlines()[0])


def server_process_alive(pid: int) -> bool:
    # The server is a daemon re-parented away from us: once stopped it may
    # linger as a zombie until something reaps it.
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def start_holder(env) -> tuple[subprocess.Popen, str]:
    """Start a process that connects, prints the server it reached, and waits."""
    holder = subprocess.Popen(
        manage_args("shell", "--no-imports", "-c", SHOW_SERVER + "sys.stdin.readline()"),
        env=manage_env(env),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT_DIR,
    )
    held = holder.stdout.readline().strip()
    assert held.endswith("|vss_program"), held or holder.stderr.read()
    return holder, held


def test_a_row_survives_a_restart_and_a_second_process_attaches(data_dir):
    env = env_for(data_dir)
    writer = run_manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('CREATE TABLE kept (name text)')\n"
        "    cursor.execute(\"INSERT INTO kept VALUES ('Lương Thị Trúc')\")\n",
        env=env,
    )
    assert writer.returncode == 0, writer.stderr
    # The last process to leave stopped the server cleanly.
    assert postmaster_pid(data_dir) is None

    # A long-running process (the run command, say) holds the server...
    holder, held = start_holder(env)
    try:
        pid = postmaster_pid(data_dir)
        assert pid is not None and server_process_alive(pid)

        # ...and a second one (a management command, the tests) attaches to it.
        reader = run_manage(
            "shell",
            "--no-imports",
            "-c",
            SHOW_SERVER + "with connection.cursor() as cursor:\n"
            "    cursor.execute('SELECT name FROM kept')\n"
            "    print(cursor.fetchone()[0])\n",
            env=env,
        )
        assert reader.returncode == 0, reader.stderr
        started, name = reader.stdout.splitlines()
        assert started == held  # same server, not a second one started
        assert name == "Lương Thị Trúc"
        assert postmaster_pid(data_dir) == pid  # still running for the holder
    finally:
        # Stopped the way a service manager stops it: its exit still stops the server.
        holder.terminate()
        holder.communicate(timeout=60)

    assert holder.returncode == 128 + signal.SIGTERM
    assert postmaster_pid(data_dir) is None
    assert not server_process_alive(pid)


def test_a_holder_killed_outright_does_not_keep_the_server_running_forever(data_dir):
    env = env_for(data_dir)
    holder, _ = start_holder(env)
    holder.kill()  # SIGKILL: no exit handlers, so it never leaves pgserver's list
    holder.communicate(timeout=60)
    pid = postmaster_pid(data_dir)
    assert pid is not None and server_process_alive(pid)

    later = run_manage("shell", "--no-imports", "-c", SHOW_SERVER, env=env)
    assert later.returncode == 0, later.stderr
    # The later process attached to the orphaned server, and as the last
    # living holder it stopped it on leaving.
    assert postmaster_pid(data_dir) is None
    assert not server_process_alive(pid)


@pytest.mark.django_db
def test_with_database_url_the_given_server_is_used_and_nothing_is_started(tmp_path):
    params = connection.get_connection_params()
    host = quote(params.get("host") or "localhost", safe="")
    url = f"postgres://{params['user']}@{host}:{params.get('port') or 5432}/{params['dbname']}"

    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        SHOW_SERVER,
        env={"DEBUG": "true", "VAR_DIR": str(tmp_path), "DATABASE_URL": url},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(f"|{params['dbname']}")
    assert not (tmp_path / "postgres").exists()
