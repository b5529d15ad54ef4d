# `make run` and `make test` each do all the set-up a fresh clone needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
HOST ?= 127.0.0.1
FLASK := $(BIN)/flask --app talaro

.PHONY: run dev telemetry-snapshot screenshots test lint format migrate install clean bench bench-read bench-cpu bench-instructions bench-parts bench-ingest bench-slow up down eval-parser corpus

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the project's dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

migrate: install
	$(FLASK) db upgrade

# The production set-up (gunicorn.conf.py: gevent workers built after the fork, telemetry
# flushed at exit); `make dev` serves with Flask's server and reloads on code changes.
run: migrate
	GUNICORN_BIND=$(HOST):$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py 'talaro:create_app()'

dev: migrate
	$(BIN)/python -m talaro.serve --host $(HOST) --port $(PORT) --reload

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The README's "first ten minutes" pictures, taken by the browser test that walks it.
screenshots: install
	rm -f docs/screenshots/*.png
	TALARO_SCREENSHOT_DIR=docs/screenshots $(BIN)/python -m pytest -q -p no:cacheprovider \
		tests/browser/test_first_ten_minutes.py

test: lint eval-parser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Field-extraction accuracy on the labelled corpus (tests/corpus) and a held-out one;
# fails below the floors. Numbers in bench-results/eval-parser.json.
eval-parser: install
	$(BIN)/python -m bench.eval_parser $(EVAL_ARGS)

# Regenerate the committed corpus (tests/corpus/files) after changing the generator.
corpus: install
	$(BIN)/python -m tests.corpus.generate --out tests/corpus/files

# The records of a scripted session, the contract tests/telemetry/test_snapshot.py holds
# the code to; regenerate after changing records on purpose, and review the diff.
telemetry-snapshot: install
	$(BIN)/python -m bench.telemetry_snapshot --out tests/telemetry/snapshot.json

# Telemetry overhead: off vs files vs a dead OTLP endpoint under the same load, a few
# minutes; results in bench-results/, reading in BENCHMARKS.md. BENCH_ARGS="--rounds 3".
bench: install
	$(BIN)/python -m bench.telemetry_overhead $(BENCH_ARGS)

# Reading the telemetry back: `flask logs` MB/s for selective and broad queries on 1 GB
# of generated files, beside grep -c; bench-results/read-logs.json, reading in BENCHMARKS.md.
bench-read: install
	$(BIN)/python -m bench.read_logs $(BENCH_READ_ARGS)

# Telemetry CPU per request, off against on, per endpoint group, in one process (~3 min);
# steadier than `make bench` on a loaded machine. BENCH_CPU_ARGS="--rounds 5".
bench-cpu: install
	$(BIN)/python -m bench.telemetry_cpu $(BENCH_CPU_ARGS)

# Telemetry instructions per request under callgrind (~10 min): the measure a shared
# machine's load cannot move. Needs valgrind, its headers and gcc. BENCH_INSTR_ARGS=...
bench-instructions: install
	$(BIN)/python -m bench.telemetry_instructions $(BENCH_INSTR_ARGS)

# Where a request's telemetry CPU goes: one part switched off at a time (~6 min).
bench-parts: install
	$(BIN)/python -m bench.telemetry_parts $(BENCH_PARTS_ARGS)

# Bulk ingestion: 100 corpus resumes in one request vs the raw parsers, telemetry off and
# on (~1 min); bench-results/ingest.json, reading in BENCHMARKS.md. BENCH_ARGS="--rounds 5".
bench-ingest: install
	$(BIN)/python -m bench.ingest $(BENCH_ARGS)

# 50 slow or idle connections vs normal throughput, per serving set-up (~12 min with nginx
# installed); bench-results/slow-clients.json, reading in BENCHMARKS.md.
bench-slow: install
	$(BIN)/python -m bench.slow_clients $(BENCH_ARGS)

# The whole stack in Docker (service, collector, Jaeger, PostgreSQL, Redis).
up:
	@test -f .env || printf 'TALARO_SECRET_KEY=%s\nTALARO_DB_PASSWORD=%s\n' \
		"$$($(PYTHON) -c 'import secrets; print(secrets.token_hex(32))')" \
		"$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(18))')" > .env
	mkdir -p logs
	docker compose up --build -d

down:
	docker compose down

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
