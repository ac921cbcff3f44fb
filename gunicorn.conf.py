"""gunicorn in production: `gunicorn -c gunicorn.conf.py vss_program.wsgi` (README).

Read from the environment, like the site's settings: PORT, WEB_CONCURRENCY,
FORWARDED_ALLOW_IPS, LOG_FORMAT, LOG_LEVEL.  Options given on the command line
or in GUNICORN_CMD_ARGS (`--timeout 120`) take precedence over these.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# The settings' own readers, and vss_program.wsgi, whatever folder gunicorn starts in.
sys.path.insert(0, str(ROOT))
chdir = str(ROOT)

from vss_program.env import env_bool, env_int, env_str  # noqa: E402
from vss_program.logging_config import gunicorn_logging  # noqa: E402


def _cores() -> int:
    # The cores this process may run on (a container's cpuset), not the host's.
    # A CPU quota (docker --cpus) is not seen: set WEB_CONCURRENCY there.
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


bind = f"0.0.0.0:{env_int('PORT', 8000, minimum=1)}"
workers = env_int("WEB_CONCURRENCY", 2 * _cores() + 1, minimum=1)
# Workers' heartbeat files in memory: on a disk (Docker's overlay) a slow write
# can stall a worker until it is killed for a timeout.
if Path("/dev/shm").is_dir():
    worker_tmp_dir = "/dev/shm"

# A worker busy with one request this long is killed and replaced (a stuck query
# must not hold it for ever); on a restart, requests in flight get graceful_timeout.
timeout = 60
graceful_timeout = 30
# With threaded workers (--threads): how long a proxy's idle connection is kept
# open (sync workers close each one after its request).
keepalive = 5

# Each worker imports the site itself: a HUP or a replaced worker loads the code
# on disk, and nothing the site opens at import is shared across the fork.
preload_app = False

# Addresses whose X-Forwarded-Proto gunicorn believes (the TLS-terminating proxy):
# the site then sees HTTPS requests as such.
forwarded_allow_ips = env_str("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# gunicorn 25.1+ opens a control socket under $HOME for gunicornc: unused here,
# and two servers on one machine would share its path.
control_socket_disable = True

# The site writes one line per request (vss_program/request_log.py).
accesslog = None
errorlog = "-"
# As the settings read DEBUG: development unless told otherwise.
logconfig_dict = gunicorn_logging(debug=env_bool("DEBUG", default=True))
