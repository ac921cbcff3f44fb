"""Benchmarks that print figures; not tests (timings vary with the machine).

``imports``, ``api``, ``dashboards`` and ``admin`` each measure one part against
its budgets in a scratch database of its own; ``database`` holds what they share
to make one, ``pages`` how the admin and the dashboards measure a page, and
``report`` the one table they print and bench/results.jsonl, the figures of every
run (``python -m bench.report`` shows them over time).  ``import_file`` writes a
realistic recipients' workbook; ``plain`` is the plain django-import-export
resource the import is compared with.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Generated files, logs and profiles, out of the repository's tracked files.
WORK_DIR = ROOT / "var" / "bench"
