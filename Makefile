# Shortcuts for project.py, which does the work and needs nothing but Python.
PYTHON ?= python3
PORT ?= 8000

.PHONY: run test setup lint messages admin-units-2024 bench bench-import bench-api bench-dashboards bench-admin bench-report

run:
	$(PYTHON) project.py run --port $(PORT)

test:
	$(PYTHON) project.py test $(PYTEST_ARGS)

setup lint messages admin-units-2024:
	$(PYTHON) project.py $@

# Benchmarks print figures (not a test): `make bench-import BENCH_ARGS="--plain-rows 5000"`,
# `make bench-api BENCH_ARGS="--recipients 100000"`, `make bench-dashboards BENCH_ARGS="--keep"`;
# `make bench-admin BENCH_ARGS="--keep"`; `make bench` runs all four with their defaults and
# prints one table of their figures; `make bench-report BENCH_ARGS="--last 10"` shows the
# figures recorded in bench/results.jsonl over time.
bench bench-import bench-api bench-dashboards bench-admin bench-report:
	$(PYTHON) project.py $@ $(BENCH_ARGS)
