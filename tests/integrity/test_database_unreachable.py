"""A database that cannot be reached: requests fail with 503 within the connect timeout.

The "database" is a socket of this test that accepts every connection and never
answers, as a host behind a firewall that drops packets, or a server frozen, would
leave a client waiting.  gunicorn serves the site as in production with
DATABASE_CONNECT_TIMEOUT=2: the API, a page requested with a login's cookie and
/readyz each answer 503 within those 2 s and a margin, instead of holding a worker
until gunicorn kills it (60 s); /healthz answers at once.
"""

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import requests

from .gunicorn_server import gunicorn, production_env

CONNECT_TIMEOUT_S = 2
# The connect timeout plus what a request costs besides (well under a second here).
MARGIN_S = 1.5
WORKERS = 3


@contextmanager
def silent_database() -> Iterator[str]:
    """Yield the URL of a server that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])  # kept open, never read from or written to
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"postgres://vss@127.0.0.1:{listener.getsockname()[1]}/vss_outage_unreachable"
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        listener.close()


def test_requests_answer_503_within_the_connect_timeout_when_the_database_never_answers(
    tmp_path,
):
    static_root = tmp_path / "static"
    static_root.mkdir()  # empty: nothing here needs a static file
    with silent_database() as url:
        env = production_env(
            url, DATABASE_CONNECT_TIMEOUT=str(CONNECT_TIMEOUT_S), STATIC_ROOT=str(static_root)
        )
        # /readyz cannot pass: the workers are ready once /healthz answers.
        with gunicorn(tmp_path, env, workers=WORKERS, ready_path="/healthz") as server:

            def get(path: str, **headers: str) -> tuple[requests.Response, float]:
                started = time.monotonic()
                response = requests.get(
                    server.base + path,
                    headers={"Accept-Language": "en", **headers},
                    timeout=CONNECT_TIMEOUT_S * 5,
                    allow_redirects=False,
                )
                return response, time.monotonic() - started

            # One request of each kind at once, one per worker.
            with ThreadPoolExecutor(WORKERS) as pool:
                api, page, ready = pool.map(
                    lambda call: call(),
                    [
                        lambda: get("/api/v1/plans/", Authorization="Api-Key abc.def"),
                        lambda: get("/admin/", Cookie="sessionid=" + "s" * 32),
                        lambda: get("/readyz"),
                    ],
                )
            alive = get("/healthz", Cookie="sessionid=" + "s" * 32)
            log = server.log_tail()

    for response, seconds in (api, page, ready):
        assert response.status_code == 503, (response.url, response.status_code, log)
        # It did wait for the database, and no longer than the timeout (once, not per query).
        assert CONNECT_TIMEOUT_S * 0.9 < seconds < CONNECT_TIMEOUT_S + MARGIN_S, (
            response.url,
            seconds,
        )
    assert api[0].json()["type"] == "database_unavailable"
    assert int(api[0].headers["Retry-After"]) > 0
    assert int(page[0].headers["Retry-After"]) > 0
    assert ready[0].json()["checks"]["database"] == "does not answer"
    assert alive[0].status_code == 200 and alive[1] < 1, alive
    assert "timeout expired" in log
    print(
        f"\nunreachable database (connect timeout {CONNECT_TIMEOUT_S} s): API 503 in "
        f"{api[1]:.2f} s, page 503 in {page[1]:.2f} s, /readyz 503 in {ready[1]:.2f} s, "
        f"/healthz 200 in {alive[1]:.2f} s"
    )
