# The one way to run things. `make run` starts the whole product; `make test` runs every check.
SHELL := /bin/bash
export PATH := $(HOME)/.local/bin:$(PATH)
UV := uv
PY := $(UV) run --frozen

.PHONY: setup run test lint format typecheck unit integration openapi openapi-check migrate clean \
	frontend frontend-check e2e deploy-check faults api worker

setup:
	@bash scripts/bootstrap.sh

# demo callbacks (unless set): signed with a demo secret, to a RIS on this machine, over http
run: setup frontend
	IMPORTER_FRONTEND_DIR=frontend/dist \
	IMPORTER_CALLBACK_SECRET="$${IMPORTER_CALLBACK_SECRET:-demo-callback-secret}" \
	IMPORTER_CALLBACK_HOSTS="$${IMPORTER_CALLBACK_HOSTS:-127.0.0.1,localhost}" \
	IMPORTER_CALLBACK_ALLOW_HTTP="$${IMPORTER_CALLBACK_ALLOW_HTTP:-true}" \
	$(PY) python -m scripts.run

test: setup lint typecheck openapi-check deploy-check unit integration faults frontend-check e2e

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

# real faults (killed workers, restarted Redis and PostgreSQL, Orthanc down, a full disk) and
# an OpenAPI fuzz run; the full-disk tests need root for a small tmpfs
faults:
	$(PY) pytest tests/faults tests/fuzz -q

openapi:
	$(PY) python -m scripts.openapi > openapi/openapi.json
	npm --prefix frontend run --silent api:generate

openapi-check:
	@$(PY) python -m scripts.openapi | diff -u openapi/openapi.json - \
	  || (echo "openapi/openapi.json is out of date: run 'make openapi'" >&2; exit 1)

# The browser app: dependencies from package-lock.json, a production build in frontend/dist
frontend/node_modules/.package-lock.json: frontend/package-lock.json
	npm --prefix frontend ci --no-audit --no-fund

frontend: frontend/node_modules/.package-lock.json
	npm --prefix frontend run build

# generated API types current, tsc, eslint, vitest
frontend-check: frontend
	npm --prefix frontend run check

# the journeys in headless Chromium against the real api, worker and Orthanc
e2e: setup frontend
	npm --prefix frontend run e2e

# compose, nginx and systemd files checked with whichever tools this machine has
deploy-check:
	bash deploy/check.sh

migrate:
	$(PY) alembic upgrade head

# one part at a time (make run starts everything together)
api: setup
	$(PY) uvicorn api.main:app

worker: setup
	$(PY) arq worker.main.WorkerSettings

clean:
	rm -rf var .mypy_cache .ruff_cache .pytest_cache

# Try the product: a demo CD folder, and one import driven over the API against `make run`
# (ARGS="/path/to/cd --url http://127.0.0.1:8000" to choose)
.PHONY: demo-media demo-import
demo-media: setup
	$(PY) python -m scripts.demo_media $(or $(DIR),var/demo-media)

demo-import: setup
	$(PY) python -m scripts.demo_import --yes $(ARGS)

# Benchmarks (never part of `make test`): BENCH_ARGS="--count 2000" for a larger medium.
.PHONY: bench
bench: setup
	$(PY) python -m bench.store $(BENCH_ARGS)
