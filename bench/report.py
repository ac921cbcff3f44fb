"""The benchmarks' figures: ``python -m bench.report [--last 5] [--part admin] [--run ID]``.

Prints, for each figure recorded in bench/results.jsonl (a part, who asked,
what was measured), its last ``--last`` values with the date, the commit and
the size of the run, to see progress over time; ``--run ID`` prints instead
the one table of the parts that ran with BENCH_RUN=ID (``project.py bench``
sets it for the four it runs) and the budgets they missed.

Every part prints its figures through ``print_table``, the same columns for
all (part, who, what, figure, budget, result), and appends one JSON line to
bench/results.jsonl: the date, the commit, the machine, the run, the part's
own details, and the rows of its table as ``figures``.  Records written before
``figures`` existed (until December 2026) have one shape per part;
``record_figures`` reads those too, with the budgets of their time.  The file
is the project's history: nothing here rewrites it.
"""

import argparse
import datetime
import json
import math
import os
import platform
import subprocess
import sys
from dataclasses import asdict, dataclass, fields

from bench import ROOT
from bench.database import postgres_version

RESULTS = ROOT / "bench" / "results.jsonl"
# Set by `project.py bench` for every part it runs: their records carry it.
RUN_VARIABLE = "BENCH_RUN"
PARTS = ("imports", "api", "dashboards", "admin")
COLUMNS = ("part", "who", "what", "figure", "budget", "result")
# How many of each unit a figure shows; otherwise one decimal.
UNIT_FORMATS = {"req/s": ",.0f", "differences": ",.0f"}


@dataclass
class Figure:
    """One row of the table: a figure measured for someone, against its budget."""

    part: str
    who: str
    what: str
    value: float
    unit: str
    # What goes with the figure ("max 34.2 ms, 6 queries").
    detail: str = ""
    # The budget in words; empty when the figure has none (then it is only shown).
    budget: str = ""
    # The budgets missed; None when there is no budget.
    failures: list[str] | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return self.part, self.who, self.what

    @property
    def text(self) -> str:
        number = format(self.value, UNIT_FORMATS.get(self.unit, ",.1f"))
        figure = f"{number}{self.unit}" if self.unit == "×" else f"{number} {self.unit}"
        return f"{figure}, {self.detail}" if self.detail else figure

    @property
    def result(self) -> str:
        if self.failures is None:
            return "–"
        return f"FAIL ({', '.join(self.failures)})" if self.failures else "pass"

    def as_record(self) -> dict:
        """Return the figure as the record stores it (the part is the record's)."""
        record = asdict(self)
        del record["part"]
        return record

    @classmethod
    def from_record(cls, part: str, data: dict) -> "Figure":
        known = {field.name for field in fields(cls)}
        return cls(part=part, **{key: value for key, value in data.items() if key in known})


def queries(count: int) -> str:
    return f"{count:,} {'query' if count == 1 else 'queries'}"


def passed(figures: list[Figure]) -> bool:
    return not any(figure.failures for figure in figures)


def missed_budgets(figures: list[Figure]) -> list[str]:
    """Return one line per figure that misses its budget, saying which."""
    return [
        f"{figure.part} · {figure.who} · {figure.what}: {', '.join(figure.failures)}"
        for figure in figures
        if figure.failures
    ]


def _aligned(rows: list[tuple[str, ...]]) -> list[str]:
    """Return ``rows`` as lines of columns, each padded to its widest cell."""
    widths = [max(len(cell) for cell in column) for column in zip(*rows, strict=True)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def print_table(figures: list[Figure]) -> None:
    """Print the figures as the benchmarks' one table, then the budgets they miss."""
    rows = [(f.part, f.who, f.what, f.text, f.budget or "–", f.result) for f in figures]
    header, *lines = _aligned([COLUMNS, *rows])
    print(f"\n{header}\n{'-' * len(header)}")
    for line in lines:
        print(line)
    missed = missed_budgets(figures)
    if missed:
        print("Budgets missed:")
        for line in missed:
            print(f"  {line}")


# ---------------------------------------------------------------------------
# Writing a record


def git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def record_header(benchmark: str, database: str) -> dict:
    """Return what each record starts with: when, which run, what code, which machine."""
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "benchmark": benchmark,
        # None when the part ran alone.
        "run": os.environ.get(RUN_VARIABLE) or None,
        "commit": git("rev-parse", "--short", "HEAD"),
        # Uncommitted changes: the figures are of a working tree, not of that commit.
        "dirty": bool(git("status", "--porcelain")),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "postgres": postgres_version(database),
        },
    }


def append_record(record: dict, figures: list[Figure]) -> None:
    """Append ``record`` with the rows of its table to bench/results.jsonl, one JSON line."""
    line = {**record, "figures": [figure.as_record() for figure in figures]}
    with RESULTS.open("a", encoding="utf-8") as results:
        results.write(json.dumps(line, ensure_ascii=False) + "\n")


def conclude(figures: list[Figure]) -> int:
    """Print the verdict; return the exit status (1 when a budget is missed)."""
    met = passed(figures)
    print(f"\n{'All budgets met.' if met else 'Some budgets missed.'}")
    print(f"Figures appended to {RESULTS.relative_to(ROOT)}.")
    return 0 if met else 1


# ---------------------------------------------------------------------------
# Reading the records


def read_records() -> list[dict]:
    """Return the records of bench/results.jsonl, oldest first (a broken line is skipped)."""
    records = []
    try:
        lines = RESULTS.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as error:
            print(f"{RESULTS.name}, line {number}: skipped ({error})", file=sys.stderr)
    return records


def record_figures(record: dict) -> list[Figure]:
    """Return the rows of a record's table, from ``figures`` or from an older shape."""
    part = record.get("benchmark", "?")
    if "figures" in record:
        return [Figure.from_record(part, data) for data in record["figures"]]
    legacy = _LEGACY.get(part)
    return legacy(record) if legacy else []


def size(record: dict) -> str:
    """Return the size of the run a record measured ("1,000,000 recipients")."""
    key = {"imports": "rows", "api": "recipients", "dashboards": "items", "admin": "recipients"}
    name = key.get(record.get("benchmark"))
    value = record.get(name) if name else None
    return f"{value:,} {name}" if isinstance(value, int) else ""


def when(record: dict) -> str:
    """Return the record's date and commit ("2026-12-02 06:36 05a06d1*": * for dirty)."""
    date = record.get("date", "")[:16].replace("T", " ")
    commit = (record.get("commit") or "?")[:7] + ("*" if record.get("dirty") else "")
    return f"{date} {commit}"


# Records written before they carried their figures: the same rows, read from
# each part's own shape, with the budgets of the time where the record lacks them.


def _legacy_imports(record: dict) -> list[Figure]:
    figures = []
    for name, phase in record["phases"].items():
        detail = f"{phase['peak_rss_mb']:.0f} MB, {queries(phase['queries'])}"
        if name.startswith("plain: "):
            if phase.get("full_seconds"):
                detail += f", extrapolated from {phase['rows']:,} rows"
            value = phase.get("full_seconds") or phase["seconds"]
            figures.append(
                Figure("imports", "plain", name.removeprefix("plain: "), value, "s", detail)
            )
            continue
        # 15 s, 500 MB, 30 queries and 10 per batch of 5,000 rows.
        limit = 30 + 10 * max(1, math.ceil(phase["rows"] / 5000))
        missed = [
            failure
            for failure, over in (
                ("time", phase["seconds"] > 15),
                ("memory", phase["peak_rss_mb"] > 500),
                ("queries", phase["queries"] > limit),
            )
            if over
        ]
        budget = f"≤15 s, ≤500 MB, ≤{limit:,} queries"
        figures.append(
            Figure("imports", "ours", name, phase["seconds"], "s", detail, budget, missed)
        )
    ratios = record.get("ratios")
    if ratios:
        detail = f"preview {ratios['preview']:.1f}×, commit {ratios['commit']:.1f}×"
        figures.append(Figure("imports", "plain / ours", "time", ratios["total"], "×", detail))
    return figures


def _legacy_api(record: dict) -> list[Figure]:
    return [
        Figure(
            "api",
            f"{record['clients']} clients",
            name,
            endpoint["rps"],
            "req/s",
            f"p95 {endpoint['p95_ms']:.1f} ms, {queries(endpoint['queries'])}",
            f"≥{endpoint['rps_budget']:g} req/s, p95 <{record['p95_budget_ms']:g} ms",
            endpoint["failures"],
        )
        for name, endpoint in record["endpoints"].items()
    ]


def _legacy_pages(record: dict) -> list[Figure]:
    part = record["benchmark"]
    figures = []
    for page in record["pages"]:
        budget = f"≤{page.get('budget_ms', record.get('budget_ms')):g} ms, "
        budget += f"≤{record['query_budget']} queries"
        if part == "admin":
            budget += ", no full COUNT(*)"
        detail = f"max {page['max_ms']:.1f} ms, {queries(page['queries'])}"
        figures.append(
            Figure(
                part,
                page["user"],
                page["page"],
                page["median_ms"],
                "ms",
                detail,
                budget,
                page["failures"],
            )
        )
    return figures


_LEGACY = {
    "imports": _legacy_imports,
    "api": _legacy_api,
    "dashboards": _legacy_pages,
    "admin": _legacy_pages,
}


# ---------------------------------------------------------------------------
# Printing


def print_run(run: str) -> int:
    """Print the one table of the parts recorded with BENCH_RUN=``run``; return the status."""
    records = [record for record in read_records() if record.get("run") == run]
    figures = [figure for record in records for figure in record_figures(record)]
    print(f"\nBenchmarks of run {run}:")
    for record in records:
        print(f"  {record['benchmark']}: {size(record)}, {when(record)}")
    absent = [part for part in PARTS if part not in {r["benchmark"] for r in records}]
    if figures:
        print_table(figures)
    if absent:
        print(f"No figures from: {', '.join(absent)} (not run, or stopped before recording).")
    met = bool(figures) and passed(figures) and not absent
    print(f"\n{'All budgets met.' if met else 'Some budgets missed, or a part failed.'}")
    return 0 if met else 1


def print_history(last: int, parts: list[str] | None) -> None:
    """Print each figure's last ``last`` values, oldest first, with date, commit and size."""
    records = [
        (record, record_figures(record))
        for record in read_records()
        if not parts or record.get("benchmark") in parts
    ]
    series: dict[tuple[str, str, str], list[tuple[dict, Figure]]] = {}
    for record, figures in records:
        for figure in figures:
            series.setdefault(figure.key, []).append((record, figure))
    # Each part's figures in the order of its latest record, then those it no longer has.
    order: dict[tuple[str, str, str], int] = {}
    for _record, figures in reversed(records):
        for figure in figures:
            order.setdefault(figure.key, len(order))
    keys = sorted(
        series,
        key=lambda key: (PARTS.index(key[0]) if key[0] in PARTS else len(PARTS), order[key]),
    )
    rows = [
        (when(record), size(record), figure.text, figure.result)
        for key in keys
        for record, figure in series[key][-last:]
    ]
    if not rows:
        print(f"No figures in {RESULTS.relative_to(ROOT)}.")
        return
    lines = iter(_aligned(rows))
    for key in keys:
        latest = series[key][-1][1]
        budget = f"  (budget {latest.budget})" if latest.budget else ""
        print(f"\n{' · '.join(key)}{budget}")
        for _ in series[key][-last:]:
            print(f"  {next(lines)}")
    print("\n* uncommitted changes: the figures are of a working tree, not of that commit.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.report",
        description=__doc__.split("\n\n")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--last", type=int, default=5, help="values shown per figure")
    parser.add_argument(
        "--part", action="append", choices=PARTS, help="only this part (may be repeated)"
    )
    parser.add_argument("--run", help="the one table of this run (BENCH_RUN) instead")
    args = parser.parse_args(argv)
    if args.last < 1:
        parser.error("--last must be at least 1")
    if args.run:
        return print_run(args.run)
    print_history(args.last, args.part)
    return 0


if __name__ == "__main__":
    sys.exit(main())
