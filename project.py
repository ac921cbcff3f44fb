#!/usr/bin/env python3
"""The project's entry point: `python3 project.py run` and `python3 project.py test`.

Needs nothing but Python 3.11+: it creates the virtual environment in .venv/,
installs the project into it when pyproject.toml changed, and runs each step
with the environment's own Python.  `make run` and `make test` call it.
"""

import argparse
import datetime
import functools
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
INSTALLED_STAMP = VENV / ".installed-stamp"


def step(*command: str | Path) -> None:
    """Run one step in the project folder; stop everything if it fails."""
    print("+", " ".join(str(part) for part in command), flush=True)
    result = subprocess.run([str(part) for part in command], cwd=ROOT)
    if result.returncode != 0:
        sys.exit(result.returncode)


def ensure_environment() -> None:
    """Create .venv/ and install the project, again whenever pyproject.toml changes."""
    if sys.version_info < (3, 11):  # noqa: UP036 (this file runs before the venv exists)
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}.")
    if not PYTHON.exists():
        print(f"Creating the virtual environment in {VENV}", flush=True)
        try:
            venv.create(VENV, with_pip=True)
        except (OSError, subprocess.CalledProcessError) as error:
            sys.exit(
                f"Could not create {VENV}: {error}\n"
                "On Debian or Ubuntu, install the venv module: apt-get install python3-venv"
            )
    pyproject = ROOT / "pyproject.toml"
    if INSTALLED_STAMP.exists() and INSTALLED_STAMP.stat().st_mtime >= pyproject.stat().st_mtime:
        return
    step(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    step(PYTHON, "-m", "pip", "install", "--quiet", "--editable", ".[test]")
    INSTALLED_STAMP.touch()


def manage(*args: str) -> None:
    step(PYTHON, "manage.py", *args)


def setup() -> None:
    """Bring the database up to date: schema, administrative units, a first login."""
    ensure_environment()
    manage("migrate", "--noinput")
    manage("load_reference_data")
    manage("create_first_admin")
    manage("load_demo_data")


def run(args: argparse.Namespace) -> None:
    setup()
    # The worker that checks and writes big imports; it gets Ctrl-C with the
    # server, being in the same process group.
    worker = [str(PYTHON), "manage.py", "db_worker"]
    print("+", " ".join(worker), "&", flush=True)
    subprocess.Popen(worker, cwd=ROOT)
    command = [str(PYTHON), "manage.py", "runserver", f"127.0.0.1:{args.port}"]
    print("+", " ".join(command), flush=True)
    os.chdir(ROOT)
    # Become the server, so that Ctrl-C and service managers signal it directly
    # and it can stop the embedded PostgreSQL on its way out.
    os.execv(PYTHON, command)


def test(args: argparse.Namespace) -> None:
    ensure_environment()
    step(BIN / "ruff", "check", ".")
    step(PYTHON, "-m", "pytest", *args.pytest_args)


def lint(args: argparse.Namespace) -> None:
    ensure_environment()
    step(BIN / "ruff", "check", ".")
    step(BIN / "ruff", "format", "--check", ".")


def messages(args: argparse.Namespace) -> None:
    ensure_environment()
    ignored = ["--ignore", f"{VENV.name}/*", "--ignore", "var/*", "--ignore", "tests/*"]
    manage("makemessages", "--locale", "vi", "--locale", "en", *ignored)
    manage("compilemessages", "--ignore", f"{VENV.name}/*")


def bench_module(module: str, args: argparse.Namespace) -> None:
    """Run one benchmark part, or the report of their figures, with the arguments given."""
    ensure_environment()
    step(PYTHON, "-m", module, *args.bench_args)


def bench(args: argparse.Namespace) -> None:
    """Run every benchmark with its defaults, then print one table of all their figures;
    fail at the end if any missed a budget."""
    if args.bench_args:
        sys.exit(
            "`bench` takes no arguments: pass them to bench-import, bench-api, "
            "bench-dashboards or bench-admin."
        )
    ensure_environment()
    # Each part's record carries the run's id (bench/report.py reads BENCH_RUN), so that
    # the table at the end shows this run's figures and no other's.
    run = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ") + f"-{os.getpid()}"
    environment = {**os.environ, "BENCH_RUN": run}
    # Each runs even when one before missed a budget: every set of figures is wanted.
    failed = []
    for module in ("bench.imports", "bench.api", "bench.dashboards", "bench.admin"):
        command = [str(PYTHON), "-m", module]
        print("+", " ".join(command), flush=True)
        if subprocess.run(command, cwd=ROOT, env=environment).returncode != 0:
            failed.append(module)
    command = [str(PYTHON), "-m", "bench.report", "--run", run]
    print("+", " ".join(command), flush=True)
    subprocess.run(command, cwd=ROOT)
    if failed:
        sys.exit(f"Budgets missed or run failed: {', '.join(failed)}")


def admin_units_2024(args: argparse.Namespace) -> None:
    """Regenerate reference/data/admin_units_2024.csv from vietnam-provinces 0.6.0.

    That version cannot live beside the 2025 edition the project installs, so it
    gets a throw-away environment of its own.
    """
    scratch = ROOT / "var" / "vietnam-provinces-0.6"
    venv.create(scratch, with_pip=True, clear=True)
    scratch_python = scratch / PYTHON.relative_to(VENV)
    step(scratch_python, "-m", "pip", "install", "--quiet", "vietnam-provinces==0.6.0")
    step(scratch_python, "reference/data/build_admin_units_2024.py")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    run_parser = commands.add_parser("run", help="set up everything and serve the site")
    run_parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
    run_parser.set_defaults(handler=run)

    test_parser = commands.add_parser("test", help="set up, lint and run the whole test suite")
    test_parser.add_argument("pytest_args", nargs=argparse.REMAINDER, help="passed to pytest")
    test_parser.set_defaults(handler=test)

    commands.add_parser("setup", help="set up without serving").set_defaults(
        handler=lambda args: setup()
    )
    commands.add_parser("lint", help="check style").set_defaults(handler=lint)
    commands.add_parser(
        "messages", help="refresh and compile translations (needs GNU gettext)"
    ).set_defaults(handler=messages)

    commands.add_parser(
        "admin-units-2024", help="regenerate the 2024 edition of administrative units"
    ).set_defaults(handler=admin_units_2024)

    # The arguments after these commands go as they are to pytest or the benchmark;
    # argparse's REMAINDER refuses them when the first starts with "-" (`test -k x`).
    passthrough = {"test": "pytest_args"}
    for name, help_text, module in (
        ("bench-import", "measure the recipients' import", "bench.imports"),
        ("bench-api", "measure the REST API under load", "bench.api"),
        ("bench-dashboards", "measure the dashboards' pages", "bench.dashboards"),
        ("bench-admin", "measure the admin's recipients and cards and books lists", "bench.admin"),
        ("bench", "run every benchmark with its defaults, then one table of all", None),
        ("bench-report", "show the benchmarks' recorded figures over time", "bench.report"),
    ):
        bench_parser = commands.add_parser(
            name, help=f"{help_text} (python -m {module} --help)" if module else help_text
        )
        bench_parser.add_argument(
            "bench_args",
            nargs=argparse.REMAINDER,
            help=f"passed to python -m {module}" if module else argparse.SUPPRESS,
        )
        bench_parser.set_defaults(
            handler=functools.partial(bench_module, module) if module else bench
        )
        passthrough[name] = "bench_args"

    argv = sys.argv[1:]
    if argv and argv[0] in passthrough:
        args = parser.parse_args(argv[:1])
        setattr(args, passthrough[argv[0]], argv[1:])
    else:
        args = parser.parse_args(argv)
    try:
        args.handler(args)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
