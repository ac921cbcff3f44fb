"""Bulk writes of generated data in SQL: the demo generator's and the benchmarks' loaders.

A million ``save()`` calls, or a million rows sent over the wire, would take
longer than anyone waits for demo data.  The loaders instead write rows with
``INSERT ... SELECT FROM generate_series`` inside PostgreSQL, each row made
from its number and hashes of it (``hashint8extended``), with the triggers off
for the session (``session_replication_role = replica``): the audit trail
would record a million events, and the foreign keys are checked afterwards by
the loaders' own checks.  The rows are split in slices, one per core, each in a
connection of its own: maintaining the indexes is most of the work, and one
backend uses one core.

Nothing here knows a table: each app keeps the SQL that writes its own.
"""

import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from django.db import connection

# A mask that makes a hash non-negative; abs() overflows on the smallest bigint.
POSITIVE = 2**63 - 1
# Rows per statement: small enough for a progress bar to move, large enough that the
# statement's fixed cost (parsing the parameters' arrays) does not count.
CHUNK_ROWS = 25_000

Progress = Callable[[int], None]


def raw_connection(*, replica: bool = True):
    """Return a new autocommit psycopg2 connection to Django's default database.

    Not Django's own connection: the slices run in threads, each with a
    connection of its own, and outside any transaction Django holds.
    """
    import psycopg2

    raw = psycopg2.connect(**connection.get_connection_params())
    raw.autocommit = True
    if replica:
        with raw.cursor() as cursor:
            # Only a superuser (the postgres user of development and demos) may.
            cursor.execute("SET session_replication_role = replica")
    return raw


def execute(
    statements: Sequence[str],
    parameters: Mapping | None = None,
    *,
    atomic: bool = False,
    progress: Progress | None = None,
) -> list[int]:
    """Run ``statements`` in order on a connection of their own, triggers off.

    Each commits on its own, or all at the end when ``atomic``; return the rows
    each touched.
    """
    raw = raw_connection()
    try:
        raw.autocommit = not atomic
        with raw.cursor() as cursor:
            counts = []
            for statement in statements:
                cursor.execute(statement, parameters)
                counts.append(cursor.rowcount)
                if progress is not None:
                    progress(1)
        if atomic:
            raw.commit()
        return counts
    finally:
        raw.close()


def execute_in_slices(
    sql: str,
    parameters: Mapping,
    count: int,
    *,
    progress: Progress | None = None,
    chunk: int = CHUNK_ROWS,
) -> int:
    """Run ``sql`` for the rows numbered 1 to ``count``; return the rows it wrote.

    ``sql`` reads its rows' range from %(first)s and %(last)s.  One slice of
    the rows per core, each on its own connection, a chunk of rows per
    statement; ``progress`` is told of each chunk's rows as it commits.
    """
    slices = max(1, min(os.cpu_count() or 1, count // 10_000))
    bounds = [count * number // slices for number in range(slices + 1)]
    lock = threading.Lock()

    def run(first: int, last: int) -> int:
        raw = raw_connection()
        written = 0
        try:
            with raw.cursor() as cursor:
                for start in range(first, last + 1, chunk):
                    end = min(start + chunk - 1, last)
                    cursor.execute(sql, {**parameters, "first": start, "last": end})
                    written += cursor.rowcount
                    if progress is not None:
                        with lock:
                            progress(end - start + 1)
        finally:
            raw.close()
        return written

    with ThreadPoolExecutor(max_workers=slices) as pool:
        return sum(pool.map(run, [first + 1 for first in bounds[:-1]], bounds[1:]))


def vacuum(*tables: str, freeze: bool = False) -> None:
    """Vacuum and analyse ``tables`` (or analyse the whole database when none is named).

    As autovacuum would have long before a real table held a million rows: the
    first reads then do not pay for hint bits, and the planner sees the real sizes.
    """
    raw = raw_connection(replica=False)
    try:
        with raw.cursor() as cursor:
            for table in tables:
                cursor.execute(f"VACUUM ({'FREEZE, ' if freeze else ''}ANALYZE) {table}")
            if not tables:
                cursor.execute("ANALYZE")
    finally:
        raw.close()


def weighted(weights: Mapping) -> tuple[list, list[int], int]:
    """Return (values, lower bounds, total) for a weighted draw in SQL.

    ``(values)[width_bucket(hash %% total, bounds)]`` then picks each value as
    often as its weight says.
    """
    values, bounds, total = [], [], 0
    for value, weight in weights.items():
        if weight > 0:
            values.append(value)
            bounds.append(total)
            total += weight
    return values, bounds, total


class Phases:
    """Runs the steps of a load one after the other, timing each.

    This one is silent; the command shows a progress bar per phase, the
    benchmarks print a line.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str, total: int | None = None) -> Iterator[Progress]:
        """Time the block; it calls the function it is given with the work done so far."""
        start = time.perf_counter()
        self.started(name, total)
        try:
            yield self.advanced
        finally:
            self.seconds[name] = time.perf_counter() - start
            self.finished(name, self.seconds[name])

    def started(self, name: str, total: int | None) -> None:
        pass

    def advanced(self, done: int) -> None:
        pass

    def finished(self, name: str, seconds: float) -> None:
        pass
