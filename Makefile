# Tamarind. `make run` starts it with demo data; `make test` runs the whole test suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
PORT   ?= 8000
PYTEST := $(BIN)/pytest -q -p no:randomly
DEMO_PASSWORD := tamarind-demo
# `make run` is a local demo: its email is written to files under var/mail/ rather than sent. Set
# TAMARIND_EMAIL_BACKEND (and the SMTP settings in the README) to send it instead.
RUN_ENV := TAMARIND_EMAIL_BACKEND=$${TAMARIND_EMAIL_BACKEND:-django.core.mail.backends.filebased.EmailBackend} \
  TAMARIND_BASE_URL=$${TAMARIND_BASE_URL:-http://127.0.0.1:$(PORT)}

.PHONY: install run test test-unit test-browser test-rq browser-deps bench lint typecheck check clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Tamarind needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	@rm -f $(VENV)/.installed-* && touch $@

# The worker runs under its supervisor, which starts a new one if it ever ends; stopping the server stops both.
run: install
	$(BIN)/tamarind migrate --noinput
	$(BIN)/tamarind demo --if-empty
	$(BIN)/tamarind logins --url http://127.0.0.1:$(PORT)/ --password $(DEMO_PASSWORD)
	@echo "Email goes to files under var/mail/ unless TAMARIND_EMAIL_BACKEND says otherwise (see README)."
	@$(RUN_ENV) $(BIN)/tamarind worker --supervise & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(RUN_ENV) PORT=$(PORT) $(BIN)/tamarind serve

# The whole suite: unit and integration tests, then the browser tests in Chromium.
test: install browser-deps
	$(PYTEST) -m "not browser"
	$(PYTEST) -m browser

test-unit: install
	$(PYTEST) -m "not browser"

test-browser: install browser-deps
	$(PYTEST) -m browser

# The RQ path (TAMARIND_TASK_BACKEND=rq) against a real Redis: 127.0.0.1:6379, database 15 by default
# (TAMARIND_TEST_REDIS_URL); the tests skip when Redis does not answer, unless TAMARIND_TEST_REQUIRE_REDIS=1.
test-rq: install
	$(PYTEST) -m rq

# Debian's Chromium drives the browser tests (Playwright's own browser download does not work offline).
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  elif command -v sudo >/dev/null; then sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; \
	  else echo "Install Debian's chromium (apt-get install chromium) to run the browser tests." >&2; exit 1; fi; \
	fi

# Every benchmark in bench/, or one: `make bench BENCH=pages` (pages at 100,000 accounts), `make bench BENCH=load`.
bench: install
	$(BIN)/python bench/run.py $(if $(BENCH),--only $(BENCH))

lint: install
	$(BIN)/ruff check tamarind bench
	$(BIN)/ruff format --check tamarind bench

typecheck: install
	$(BIN)/mypy tamarind

check: lint typecheck
	$(BIN)/tamarind makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var/test-output
