"""The import benchmark: ``python -m bench.imports [--rows 100000] [--plain-rows N]``.

Prints figures, not a verdict a test could rely on (timings vary with the
machine): the preview and the commit of a realistic 100,000-row file against the
issue's budgets (15 s each, 500 MB peak, a constant number of queries per
5,000-row batch), a second import of the same file, and the same rows through a
plain django-import-export ``ModelResource`` (``bench.plain``), with the ratio.

Why it is built this way:

- A database of its own, ``<name>_bench`` on the server of DATABASES["default"]
  (the embedded one without DATABASE_URL), created afresh, migrated and loaded
  with the reference data, then dropped (bench.database): the figures never
  depend on, or touch, the data of a working database.  ``--keep-db`` keeps it,
  and a later run reuses it, emptied of recipients.
- Each phase runs in a new process (spawned, not forked), so that the peak
  memory it reports is its own and not an earlier phase's.  Django's start-up
  is left out of the times, as in the reference figures we compare with, but not out of
  the memory: a worker holds it too.
- Queries are counted in the driver (psycopg2's cursor factory), which sees
  every statement whatever sends it: Django's cursors and the raw connection a
  thread of the preview uses for COPY.  Only counts are kept, so the plain
  path's hundreds of thousands of statements cost no memory.

Prints the benchmarks' table (bench.report) and appends the figures as one JSON
line to bench/results.jsonl.
"""

import argparse
import cProfile
import math
import multiprocessing
import os
import pstats
import re
import resource
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench import ROOT, WORK_DIR, report
from bench.database import (
    in_database,
    prepare_schema,
    setup_django,
)
from bench.report import Figure

# The budgets for 100,000 rows on a 2-core machine.
PREVIEW_BUDGET_S = 15.0
COMMIT_BUDGET_S = 15.0
RSS_BUDGET_MB = 500.0
# "A constant number of queries per batch, not per row": a few to start, then a
# handful per batch of 5,000 rows (the plain path sends several per row).
QUERY_BUDGET_BASE = 30
QUERIES_PER_BATCH = 10


# ---------------------------------------------------------------------------
# The bench database


def _empty_recipients() -> None:
    """Remove every recipient and import, so that a path starts from an empty list.

    TRUNCATE rather than DELETE: the audit tables refuse deletes, and it is instant.
    """
    from django.db import connection

    from beneficiaries.models import Beneficiary, ImportJob, ImportRow

    tables = [model._meta.db_table for model in (ImportRow, ImportJob, Beneficiary)]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")


# ---------------------------------------------------------------------------
# Measuring one phase (in its child process)


class QueryCounter:
    """Count the statements a block sends, by kind ("SELECT beneficiaries_beneficiary").

    Counted in the driver, through psycopg2's cursor factory, so that statements
    sent from another thread on the raw connection (the preview's COPY) count
    too, and no statement's text is kept.  Transaction control that psycopg2
    sends by itself (BEGIN, COMMIT) is not counted; savepoints are.
    """

    _PGHISTORY_PREFIX = "SELECT set_config('pghistory.context_id'"
    _TABLE = {
        "SELECT": re.compile(r'\bFROM\s+"?(\w+)', re.I),
        "DELETE": re.compile(r'\bFROM\s+"?(\w+)', re.I),
        "INSERT": re.compile(r'\bINTO\s+"?(\w+)', re.I),
        "UPDATE": re.compile(r'^UPDATE\s+"?(\w+)', re.I),
        "COPY": re.compile(r'^COPY\s+"?(\w+)', re.I),
    }

    def __init__(self):
        self.total = 0
        self.kinds: Counter = Counter()
        self._lock = threading.Lock()
        self._cursor_class = _counting_cursor(self)

    def add(self, sql) -> None:
        kind = self._kind(sql if isinstance(sql, str) else bytes(sql).decode(errors="replace"))
        with self._lock:
            self.total += 1
            self.kinds[kind] += 1

    def _kind(self, sql: str) -> str:
        # Long enough to reach the FROM after Django's list of columns.
        sql = sql[:5000].lstrip()
        if sql.startswith(self._PGHISTORY_PREFIX):
            sql = sql.split("; ", 1)[-1].lstrip()
        verb = sql.split(None, 1)[0].upper() if sql else "?"
        pattern = self._TABLE.get(verb)
        match = pattern.search(sql) if pattern else None
        return f"{verb} {match.group(1)}" if match else verb

    def _instrument(self, sender=None, connection=None, **kwargs) -> None:
        connection.connection.cursor_factory = self._cursor_class

    def __enter__(self) -> "QueryCounter":
        from django.db import connection
        from django.db.backends.signals import connection_created

        # The open connection now, and any the block opens (in any thread).
        connection.ensure_connection()
        self._saved = connection.connection.cursor_factory
        self._instrument(connection=connection)
        connection_created.connect(self._instrument)
        return self

    def __exit__(self, *exc_info) -> None:
        from django.db import connection
        from django.db.backends.signals import connection_created

        connection_created.disconnect(self._instrument)
        if connection.connection is not None:
            connection.connection.cursor_factory = self._saved


def _counting_cursor(counter: QueryCounter):
    """Return a psycopg2 cursor class that reports each statement to ``counter``."""
    from psycopg2.extensions import cursor

    class CountingCursor(cursor):
        def execute(self, query, vars=None):
            counter.add(query)
            return super().execute(query, vars)

        def executemany(self, query, vars_list):
            counter.add(query)
            return super().executemany(query, vars_list)

        def copy_expert(self, sql, file, size=8192):
            counter.add(sql)
            return super().copy_expert(sql, file, size)

    return CountingCursor


def _peak_rss_mb() -> float:
    """Return the process's peak resident memory in MB.

    On Linux from /proc (VmHWM), which belongs to this program's memory alone:
    ru_maxrss survives exec, so a child spawned from a parent that had just
    written a large workbook would report the parent's peak as its own.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Kilobytes on Linux, bytes on macOS.
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def _measure(work: Callable[[], object], profile: str | None) -> tuple[object, dict]:
    """Run ``work`` with its queries counted; return (its result, the measures)."""
    profiler = cProfile.Profile() if profile else None
    with QueryCounter() as queries:
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        try:
            result = work()
        finally:
            if profiler:
                profiler.disable()
        seconds = time.perf_counter() - start
    if profiler:
        profiler.dump_stats(profile)
    return result, {
        "seconds": seconds,
        "peak_rss_mb": _peak_rss_mb(),
        "queries": queries.total,
        "query_kinds": dict(queries.kinds.most_common()),
    }


def _job_counts(job) -> dict:
    return {
        "rows": job.row_count,
        "new": job.new_count,
        "updated": job.updated_count,
        "unchanged": job.unchanged_count,
        "skipped": job.skipped_count,
        "duplicates": job.duplicate_count,
        "rejected": job.rejected_count,
    }


def phase_preview(path: str, profile: str | None = None) -> dict:
    """Create the job and check every row (import_job_create + import_validate)."""
    from beneficiaries.imports.services import import_job_create, import_validate
    from beneficiaries.models import ImportJob

    def work():
        job = import_job_create(
            actor=None,
            file_name=Path(path).name,
            content=Path(path).read_bytes(),
            province=None,
            mode=ImportJob.Mode.VALID_ROWS,
        )
        return import_validate(job=job)

    job, measures = _measure(work, profile)
    return {**measures, **_job_counts(job), "job": job.pk, "status": job.status, "error": job.error}


def phase_commit(job_id: int, profile: str | None = None) -> dict:
    """Confirm the preview and write it (import_confirm + import_commit)."""
    from beneficiaries.imports.services import import_commit, import_confirm
    from beneficiaries.models import Beneficiary, ImportJob

    job = ImportJob.objects.defer("file_content").get(pk=job_id)
    before = Beneficiary.objects.count()

    def work():
        confirmed = import_confirm(job=job, actor=None, duplicates=job.duplicates)
        return import_commit(job=confirmed)

    job, measures = _measure(work, profile)
    return {
        **measures,
        **_job_counts(job),
        "written": Beneficiary.objects.count() - before,
        "status": job.status,
        "error": job.error,
    }


def phase_plain(path: str, rows: int | None, dry_run: bool, profile: str | None = None) -> dict:
    """Read and prepare the file, then ModelResource.import_data: the admin's preview
    (dry_run) or its confirmation, each reading the file again as the admin does."""
    from bench.plain import PlainBeneficiaryResource, plain_dataset
    from beneficiaries.models import Beneficiary

    before = Beneficiary.objects.count()

    def work():
        dataset = plain_dataset(Path(path).read_bytes(), rows)
        result = PlainBeneficiaryResource().import_data(dataset, dry_run=dry_run)
        return len(dataset), result

    (row_count, result), measures = _measure(work, profile)
    return {
        **measures,
        "rows": row_count,
        "totals": dict(result.totals),
        "error_rows": len(result.row_errors()),
        "invalid_rows": len(result.invalid_rows),
        "written": Beneficiary.objects.count() - before,
    }


# ---------------------------------------------------------------------------
# Running the phases and reporting


@dataclass
class Phase:
    name: str
    seconds: float
    rows: int
    peak_rss_mb: float
    queries: int
    budget_s: float | None = None
    # Seconds for the whole file when only some rows were run (the plain path).
    full_seconds: float | None = None
    # The machine's load when the phase started: other work skews the figures.
    load: float = 0.0
    details: dict = field(default_factory=dict)

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def batches(self, batch_size: int) -> int:
        return max(1, math.ceil(self.rows / batch_size))

    def failures(self, batch_size: int) -> list[str]:
        """Return the budgets the phase misses; none when it has no budget."""
        if self.budget_s is None:
            return []
        missed = []
        if self.seconds > self.budget_s:
            missed.append("time")
        if self.peak_rss_mb > RSS_BUDGET_MB:
            missed.append("memory")
        if self.queries > self.query_limit(batch_size):
            missed.append("queries")
        return missed

    def query_limit(self, batch_size: int) -> int:
        return QUERY_BUDGET_BASE + QUERIES_PER_BATCH * self.batches(batch_size)

    def figure(self, batch_size: int) -> Figure:
        """Return the phase's row of the table: ours against the budgets, the plain path shown."""
        detail = f"{self.peak_rss_mb:.0f} MB, {report.queries(self.queries)}"
        if self.budget_s is None:
            if self.full_seconds is not None:
                detail += f", extrapolated from {self.rows:,} rows"
            what = self.name.removeprefix("plain: ")
            return Figure("imports", "plain", what, self.full_seconds or self.seconds, "s", detail)
        budget = (
            f"≤{self.budget_s:g} s, ≤{RSS_BUDGET_MB:g} MB, "
            f"≤{self.query_limit(batch_size):,} queries"
        )
        return Figure(
            "imports",
            "ours",
            self.name,
            self.seconds,
            "s",
            detail,
            budget,
            self.failures(batch_size),
        )


def _in_child(database: str, function: Callable, *args) -> dict:
    """Run ``function(*args)`` in a new process set up for ``database``; return its dict."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=1, mp_context=context, initializer=setup_django, initargs=(database,)
    ) as pool:
        return pool.submit(function, *args).result()


class _Runner:
    """Runs phases in child processes and keeps their figures, in order."""

    def __init__(self, database: str, profile_dir: Path | None):
        self.database = database
        self.profile_dir = profile_dir
        self.phases: list[Phase] = []

    def profile_path(self, name: str) -> str | None:
        return str(self.profile_dir / f"{name}.prof") if self.profile_dir else None

    def run(self, name: str, function: Callable, *args, budget_s: float | None = None) -> Phase:
        load = os.getloadavg()[0]
        print(f"Running {name} (load average {load:.2f})...", flush=True)
        result = _in_child(self.database, function, *args)
        measures = {"seconds", "peak_rss_mb", "queries", "rows"}
        phase = Phase(
            name=name,
            budget_s=budget_s,
            load=load,
            details={key: value for key, value in result.items() if key not in measures},
            **{key: result[key] for key in measures},
        )
        self.phases.append(phase)
        # Printed at once, so that an interrupted run still leaves its figures.
        print(
            f"  {name}: {phase.seconds:.1f} s, {phase.rows_per_s:,.0f} rows/s, "
            f"peak {phase.peak_rss_mb:.0f} MB, {phase.queries:,} queries",
            flush=True,
        )
        return phase


def _counts(phase: Phase) -> dict:
    keys = ("new", "updated", "unchanged", "skipped", "duplicates", "rejected")
    return {"rows": phase.rows, **{key: phase.details[key] for key in keys}}


def _check_counts(label: str, counts: dict, expected: dict) -> list[str]:
    """Print the outcome counts beside what the file holds; return the differences."""
    differences, shown = [], []
    for key, value in counts.items():
        want = expected.get(key)
        if want is not None and want != value:
            differences.append(f"{label}: {key} {value:,}, the file holds {want:,}")
            shown.append(f"{key} {value:,} (expected {want:,})")
        else:
            shown.append(f"{key} {value:,}")
    print(f"  {label}: " + ", ".join(shown), flush=True)
    return differences


def _our_phases(runner: _Runner, path: Path, summary) -> tuple[Phase, Phase, list[str]]:
    """Run preview, commit, and both again on the same file; return the first two and
    how the outcomes differ from what the file holds (a pipeline bug when not empty)."""
    expected = {
        "rows": summary.rows,
        "new": summary.expected_new,
        "updated": 0,
        "unchanged": 0,
        "skipped": 0,
        "duplicates": summary.repeated_people,
        "rejected": summary.expected_rejected,
    }
    preview = runner.run(
        "preview",
        phase_preview,
        str(path),
        runner.profile_path("preview"),
        budget_s=PREVIEW_BUDGET_S,
    )
    differences = _check_counts("preview", _counts(preview), expected)
    if preview.details["status"] != "validated":
        raise SystemExit(f"The preview failed: {preview.details['error']}")
    commit = runner.run(
        "commit",
        phase_commit,
        preview.details["job"],
        runner.profile_path("commit"),
        budget_s=COMMIT_BUDGET_S,
    )
    print(f"  commit: {commit.details['written']:,} recipients written", flush=True)
    if commit.details["written"] != summary.expected_new:
        differences.append(f"commit: {commit.details['written']:,} written")

    again = runner.run(
        "second import: preview",
        phase_preview,
        str(path),
        runner.profile_path("second-preview"),
        budget_s=PREVIEW_BUDGET_S,
    )
    # The people written are recorded now: unchanged, or possible duplicates again for the
    # repeats without ID whose phone or village differ from the first row's.
    expected = {"rows": summary.rows, "new": 0, "updated": 0, "skipped": 0}
    expected["rejected"] = summary.expected_rejected
    differences += _check_counts("second import", _counts(again), expected)
    held = again.details["unchanged"] + again.details["duplicates"]
    if held != summary.expected_new + summary.repeated_people:
        differences.append(f"second import: {held:,} unchanged or possible duplicates")
    again_commit = runner.run(
        "second import: commit",
        phase_commit,
        again.details["job"],
        runner.profile_path("second-commit"),
        budget_s=COMMIT_BUDGET_S,
    )
    written = again_commit.details["written"]
    print(
        f"  second import: {again_commit.details['new']:,} new, "
        f"{again_commit.details['updated']:,} updated, {written:,} recipients written",
        flush=True,
    )
    if written:
        differences.append(f"second import: {written:,} recipients written")
    return preview, commit, differences


def _plain_phases(runner: _Runner, path: Path, rows: int, plain_rows: int) -> tuple[Phase, Phase]:
    """Run the plain ModelResource's preview and confirmation, from an empty list as ours."""
    from django.db import connections

    _empty_recipients()
    connections.close_all()
    preview = runner.run("plain: preview (dry run)", phase_plain, str(path), plain_rows, True)
    confirm = runner.run("plain: confirm", phase_plain, str(path), plain_rows, False)
    for phase in (preview, confirm):
        if plain_rows < rows:
            phase.full_seconds = phase.seconds * rows / plain_rows
        print(
            f"  {phase.name}: {phase.details['totals']}, "
            f"{phase.details['written']:,} recipients written, "
            f"{phase.seconds / phase.rows * 1000:.2f} s per 1,000 rows",
            flush=True,
        )
    return preview, confirm


def _figures(phases: list[Phase], batch_size: int, differences, ratios) -> list[Figure]:
    """Return the rows of the table: the phases, the outcome counts, the plain/ours ratio."""
    figures = [phase.figure(batch_size) for phase in phases]
    figures.append(
        Figure(
            "imports",
            "ours",
            "outcomes against the file",
            len(differences),
            "differences",
            "",
            "none",
            ["counts differ"] if differences else [],
        )
    )
    if ratios:
        detail = f"preview {ratios['preview']:.1f}×, commit {ratios['commit']:.1f}×"
        figures.append(Figure("imports", "plain / ours", "time", ratios["total"], "×", detail))
    return figures


def _ratios(preview: Phase, commit: Phase, plain_preview: Phase, plain_confirm: Phase) -> dict:
    """Return plain / ours for the preview, the commit and both (whole-file plain times)."""
    plain_preview_s = plain_preview.full_seconds or plain_preview.seconds
    plain_confirm_s = plain_confirm.full_seconds or plain_confirm.seconds
    ours = preview.seconds + commit.seconds
    return {
        "preview": plain_preview_s / preview.seconds,
        "commit": plain_confirm_s / commit.seconds,
        "total": (plain_preview_s + plain_confirm_s) / ours,
        "plain_total_s": plain_preview_s + plain_confirm_s,
        "ours_total_s": ours,
    }


def _print_profile(path: Path) -> None:
    print(f"\nProfile of {path.stem} (cProfile: times inflated; {path}):")
    stats = pstats.Stats(str(path), stream=sys.stdout).strip_dirs()
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(15)


def _record(args, database: str, plain_rows: int, summary, generation_s, phases, ratios, figures):
    """Append the run's figures to bench/results.jsonl, one JSON object per line."""
    record = {
        **report.record_header("imports", database),
        "rows": args.rows,
        "plain_rows": None if args.no_plain else plain_rows,
        "seed": args.seed,
        "profiled": args.profile,
        "file": {**asdict(summary), "seconds": round(generation_s, 2)},
        "phases": {
            phase.name: {
                "seconds": round(phase.seconds, 3),
                "full_seconds": round(phase.full_seconds, 1) if phase.full_seconds else None,
                "rows": phase.rows,
                "rows_per_s": round(phase.rows_per_s),
                "peak_rss_mb": round(phase.peak_rss_mb, 1),
                "queries": phase.queries,
                "load": round(phase.load, 2),
                **{k: v for k, v in phase.details.items() if k not in {"error", "job"}},
            }
            for phase in phases
        },
        "ratios": {key: round(value, 2) for key, value in ratios.items()},
        "passed": report.passed(figures),
    }
    report.append_record(record, figures)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.imports",
        description=__doc__.split("\n\n")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rows", type=int, default=100_000, help="rows in the file")
    parser.add_argument(
        "--plain-rows",
        type=int,
        help="rows through the plain ModelResource (default: all; fewer are extrapolated)",
    )
    parser.add_argument("--seed", type=int, default=2026, help="the file's seed")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile our phases with cProfile (slower) and print where the time goes",
    )
    parser.add_argument(
        "--keep-db",
        action="store_true",
        help="keep the bench database afterwards, and reuse it (emptied) when it exists",
    )
    parser.add_argument(
        "--no-plain", action="store_true", help="skip the plain django-import-export path"
    )
    args = parser.parse_args(argv)
    plain_rows = min(args.plain_rows or args.rows, args.rows)

    # A kept database is reused whatever it holds: the run empties its recipients.
    return in_database(
        "bench",
        keep=args.keep_db,
        reusable=lambda _name: True,
        run=lambda name, reuse: _run(args, name, plain_rows, reuse),
    )


def _run(args, database: str, plain_rows: int, reuse: bool) -> int:
    from django.db import connections

    setup_django(database)
    from bench.import_file import write_import_file
    from beneficiaries.imports.services import BATCH_SIZE

    prepare_schema(reference_data=True)
    if reuse:
        _empty_recipients()

    WORK_DIR.mkdir(parents=True, exist_ok=True)
    path = WORK_DIR / f"recipients-{args.rows}-{args.seed}.xlsx"
    start = time.perf_counter()
    summary = write_import_file(path, args.rows, seed=args.seed)
    generation_s = time.perf_counter() - start
    connections.close_all()
    print(
        f"File {path.relative_to(ROOT)}: {summary.rows:,} rows, "
        f"{path.stat().st_size / 1e6:.1f} MB, written in {generation_s:.1f} s; "
        f"{summary.communes} communes of {summary.provinces} provinces; errors "
        f"{summary.errors}, repeated IDs {summary.repeated_ids}, repeated people without ID "
        f"{summary.repeated_people}",
        flush=True,
    )

    runner = _Runner(database, WORK_DIR if args.profile else None)
    preview, commit, differences = _our_phases(runner, path, summary)
    ratios = {}
    if not args.no_plain:
        plain = _plain_phases(runner, path, args.rows, plain_rows)
        ratios = _ratios(preview, commit, *plain)

    figures = _figures(runner.phases, BATCH_SIZE, differences, ratios)
    report.print_table(figures)
    print(f"\nQueries by kind (and per batch of {BATCH_SIZE:,} rows):")
    for phase in runner.phases:
        kinds = ", ".join(f"{n} {kind}" for kind, n in phase.details["query_kinds"].items())
        per_batch = phase.queries / phase.batches(BATCH_SIZE)
        print(f"  {phase.name} ({per_batch:,.1f} per batch): {kinds}")
    if ratios:
        print(
            f"\nPlain / ours: preview {ratios['preview']:.1f}×, commit {ratios['commit']:.1f}×, "
            f"both {ratios['total']:.1f}× ({ratios['plain_total_s']:,.0f} s against "
            f"{ratios['ours_total_s']:.1f} s for {args.rows:,} rows)"
        )
    if differences:
        print("\nOutcomes that differ from what the file holds (a pipeline bug):")
        for difference in differences:
            print(f"  - {difference}")
    if args.profile:
        for name in ("preview", "commit"):
            _print_profile(WORK_DIR / f"{name}.prof")

    _record(args, database, plain_rows, summary, generation_s, runner.phases, ratios, figures)
    return report.conclude(figures)


if __name__ == "__main__":
    sys.exit(main())
