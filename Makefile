# AVG Portal. Quick start: `make run`, then `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# Development settings for `make run` and the test suite; production sets its own environment.
DEV_ENV = DJANGO_DEBUG=1 DJANGO_SITE_URL=http://$(HOST):$(PORT)

.PHONY: run test install messages system-deps browser-deps front-deps lint typecheck format bench bench-http bench-instructions bench-scale pg-client-deps restore-drill clean screenshots

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 13) else "AVG Portal needs Python 3.13, but $(PYTHON) is " + sys.version.split()[0] + ". Install it (pyenv install 3.13) or run: make PYTHON=/path/to/python3.13 ...")'
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

# What pip cannot install: gettext (to compile translations), Pango (for WeasyPrint) and the
# DejaVu fonts the PDFs print with. Then, not fatal, the fallbacks for Chinese, Japanese,
# Korean and emoji, Droid Sans Fallback and Symbola: without them those print as empty
# boxes, and tests/test_agreement_document.py skips its test of them (fails under CI).
system-deps:
	@missing=""; \
	command -v msgfmt >/dev/null || missing="$$missing gettext"; \
	ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so' || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0"; \
	fc-list 2>/dev/null | grep -qi dejavu || missing="$$missing fonts-dejavu-core"; \
	$(call apt_install,$$missing)
	@missing=""; \
	fc-list 2>/dev/null | grep -qi 'droid sans fallback' || missing="$$missing fonts-droid-fallback"; \
	fc-list 2>/dev/null | grep -qi symbola || missing="$$missing fonts-symbola"; \
	( $(call apt_install,$$missing) ) || echo "Without them, names in Chinese, Japanese, Korean or with emoji print as empty boxes."

# What the tests need besides: the browser tests drive Debian's Chromium (Playwright cannot
# download its own here), and tests read PDFs with poppler's pdftotext.
browser-deps:
	@missing=""; command -v chromium >/dev/null || missing="chromium"; \
	command -v pdftotext >/dev/null || missing="$$missing poppler-utils"; \
	$(call apt_install,$$missing)

# nginx, for tests/test_front_server.py (the signed download links are checked by nginx
# itself) and `make bench-http`. Not fatal: without it that test is skipped and says why.
# Debian starts an nginx of its own on installing it, and enables it at boot; that one is
# stopped and disabled again (the tests and the bench start their own, on loopback).
front-deps:
	@if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then \
	  ( $(call apt_install, nginx-light) ) && { systemctl disable --now nginx 2>/dev/null; \
	    /usr/sbin/nginx -s quit 2>/dev/null; true; } \
	    || echo "Without nginx, tests/test_front_server.py skips its nginx test."; \
	fi

define apt_install
if [ -n "$(1)" ]; then \
  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
    echo "Installing system packages:$(1)"; \
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null) \
      || { echo "Could not install$(1); install them with: sudo apt-get install$(1)"; exit 1; }; \
  else \
    echo "Missing system packages:$(1). Install them with: sudo apt-get install$(1)"; exit 1; \
  fi; \
fi
endef

messages: install system-deps
	@$(DEV_ENV) $(BIN)/python manage.py compilemessages --ignore=.venv --verbosity 0

run: messages
	@$(DEV_ENV) $(BIN)/python manage.py migrate --verbosity 0
	@$(DEV_ENV) $(BIN)/python manage.py load_demo
	@echo "Serving AVG Portal on http://$(HOST):$(PORT)/  (stop with Ctrl+C)"
	@$(DEV_ENV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

# One pytest worker per core (pytest-xdist); PYTEST_WORKERS=0 runs in one process. Workers
# steal queued tests from each other, so the browser tests (collected first) do not all end
# up on one. Bytecode is written even where the environment says not to (as on these
# machines): every worker and every process a test starts would otherwise compile the app
# and rewrite the tests' asserts again. The 15 slowest tests are listed at the end, to keep
# the suite's time in view.
PYTEST_WORKERS ?= auto
test: messages browser-deps front-deps
	env -u PYTHONDONTWRITEBYTECODE $(DEV_ENV) $(BIN)/python -m pytest -n $(PYTEST_WORKERS) \
		--dist worksteal --durations=15 $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: install
	$(DEV_ENV) $(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# PDF renders (wall and CPU time, interleaved), signing, the archive check and the export.
bench: messages
	$(DEV_ENV) $(BIN)/python -m bench

# Issue 15's table over HTTP: gunicorn on PostgreSQL (DATABASE_URL, default the scratch
# database avg_bench on 127.0.0.1, dropped and made again) and Redis, production settings.
bench-http: messages front-deps
	$(BIN)/python -m bench http

# The first render counted in instructions under valgrind (bench/instructions.py): the same
# figures on a busy machine. A few minutes.
bench-instructions: messages
	$(DEV_ENV) $(BIN)/python -m bench instructions

# Scale-out (bench/scale.py): 200 clients sign at once through two gunicorn instances, two
# db_workers seal; PostgreSQL and Redis on 127.0.0.1, S3 (moto) and SMTP started by it.
bench-scale: messages
	$(BIN)/python -m bench scale

# Backup and restore drill (deploy/restore-drill.sh) on the PostgreSQL server at DRILL_PG
# (default postgres://postgres@127.0.0.1:5432), with PostgreSQL's client tools.
pg-client-deps:
	@missing=""; for tool in pg_dump pg_restore psql; do \
	  command -v $$tool >/dev/null || missing=" postgresql-client"; done; \
	$(call apt_install,$$missing)

restore-drill: messages pg-client-deps
	deploy/restore-drill.sh

clean:
	rm -rf $(VENV) staticfiles

# The README's screenshots (docs/screenshots/), made from the demo data in a throw-away database.
screenshots: messages browser-deps
	@command -v pdftoppm >/dev/null || $(call apt_install,poppler-utils)
	$(BIN)/python docs/screenshots.py
