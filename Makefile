# The one way to run things. `make run` starts the whole product; `make test` runs every check.
SHELL := /bin/bash
export PATH := $(HOME)/.local/bin:$(PATH)
UV := uv
PY := $(UV) run --frozen

.PHONY: setup run test lint format typecheck unit integration openapi openapi-check migrate clean

setup:
	@bash scripts/bootstrap.sh

run: setup
	$(PY) python -m scripts.run

test: setup lint typecheck openapi-check unit integration

lint:
	$(PY) ruff check .
	$(PY) ruff format --check .

format:
	$(PY) ruff check --fix .
	$(PY) ruff format .

typecheck:
	$(PY) mypy

unit:
	$(PY) pytest tests/unit -q

integration:
	$(PY) pytest tests/integration -q

openapi:
	$(PY) python -m scripts.openapi > openapi/openapi.json

openapi-check:
	@$(PY) python -m scripts.openapi | diff -u openapi/openapi.json - \
	  || (echo "openapi/openapi.json is out of date: run 'make openapi'" >&2; exit 1)

migrate:
	$(PY) alembic upgrade head

clean:
	rm -rf var .mypy_cache .ruff_cache .pytest_cache

# Benchmarks (never part of `make test`): BENCH_ARGS="--count 2000" for a larger medium.
.PHONY: bench
bench: setup
	$(PY) python -m bench.store $(BENCH_ARGS)
