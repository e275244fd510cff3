# Two commands do everything on a fresh machine: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup demo test lint bench gpu-check

setup:
	@bash tools/setup_env.sh

demo: setup
	$(VENV)/bin/drivestack demo

test: setup
	CI=$${CI:-1} NUMBA_THREADING_LAYER=workqueue $(PY) -m pytest -q -n $${PYTEST_WORKERS:-auto} --maxprocesses 4

lint: setup
	$(VENV)/bin/ruff check drivestack tests tools
	$(VENV)/bin/mypy

bench: setup
	$(VENV)/bin/drivestack bench kernels --json out/bench_kernels.json

gpu-check: setup
	bash tools/gpu_check.sh
