# The routine jobs. `make run` and `make test` are all a newcomer needs.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-browser lint format bench fuzz openapi install lock clean loadtest faultdrill

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed (set PYTHON=/path/to/python3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0
	$(BIN)/python manage.py load_course
	$(BIN)/python manage.py demo_accounts
	$(BIN)/python manage.py serve

test: $(STAMP)
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Only the tests in headless Chromium (Debian's `chromium`); screenshots go to test-artifacts/.
test-browser: $(STAMP)
	$(BIN)/python -m pytest -m browser $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m grading bench
	$(BIN)/python -m grading bench --code
	$(BIN)/python manage.py bench_queues

# The engine's command line on FUZZ_CASES random and malformed lines (FUZZ_SEED picks them).
FUZZ_CASES ?= 100000
fuzz: $(STAMP)
	FUZZ_CASES=$(FUZZ_CASES) $(BIN)/python -m pytest -q tests/grading/test_cli_fuzz.py

# The JSON API's OpenAPI schema, regenerated from the views after changing the API
# (tests/exercises/test_openapi.py fails while the committed one differs).
openapi: $(STAMP)
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file docs/openapi.yaml

# Re-resolve requirements.lock (and the load driver's requirements-loadtest.lock) after changing the dependencies in pyproject.toml.
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet pip-tools==7.6.2
	$(BIN)/pip-compile --quiet --extra=dev --generate-hashes --no-emit-find-links \
		--no-emit-index-url --strip-extras --output-file=requirements.lock pyproject.toml
	$(BIN)/pip-compile --quiet --extra=loadtest --generate-hashes --no-emit-find-links \
		--no-emit-index-url --strip-extras --output-file=requirements-loadtest.lock pyproject.toml

clean:
	rm -rf $(VENV) $(LOADTEST_VENV) var staticfiles test-artifacts

# Load: simulated students against the production shape (gunicorn as the image runs it, a
# Celery worker and the scheduler as Compose runs them, private PostgreSQL and Redis), and
# the fault drill under that load. Locust lives in .venv-loadtest, never in the app's venv.
# SCENARIO=exam|saturation, USERS, DURATION (seconds); see loadtest/run.py.
LOADTEST_VENV := .venv-loadtest
LOADTEST_STAMP := $(LOADTEST_VENV)/.installed
SCENARIO ?= exam
USERS ?=
DURATION ?=

$(LOADTEST_STAMP): requirements-loadtest.lock
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed (set PYTHON=/path/to/python3.11)"; exit 1; }
	$(PYTHON) -m venv $(LOADTEST_VENV)
	$(LOADTEST_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LOADTEST_VENV)/bin/python -m pip install --quiet --require-hashes -r requirements-loadtest.lock
	touch $(LOADTEST_STAMP)

loadtest: $(STAMP) $(LOADTEST_STAMP)
	$(BIN)/python -m loadtest.run --scenario $(SCENARIO) $(if $(USERS),--users $(USERS)) $(if $(DURATION),--duration $(DURATION))

faultdrill: $(STAMP) $(LOADTEST_STAMP)
	$(BIN)/python -m loadtest.run --faults $(if $(USERS),--users $(USERS)) $(if $(DURATION),--duration $(DURATION))
