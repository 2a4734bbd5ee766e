# The README's commands. `make run` serves the blog from a fresh clone; `make test` runs
# the whole suite (embedded backends, then MariaDB + Redis).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUNTIME_STAMP := $(VENV)/.runtime-$(shell cat requirements.txt | sha1sum | cut -c1-10)
DEV_STAMP := $(VENV)/.dev-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-10)
HOST ?= 127.0.0.1
PORT ?= 8000

# Overridable so that parallel runs on one machine keep apart (own test DB, Redis DB, var).
TEST_DB_URL ?= mysql://root@127.0.0.1:3306/blog
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
EMBEDDED_VAR ?= $(CURDIR)/var/test-embedded
REAL_VAR ?= $(CURDIR)/var/test-real
SHIFTED_VAR ?= $(CURDIR)/var/test-shifted
PYTEST_ARGS ?=

.PHONY: run dev install install-dev lock test test-embedded test-real test-shifted lint typecheck format docs demo cluster bench messages clean audit backup restore

# Every file checked against the hashes in the lock (requirements*.txt, made by `make lock`).
$(RUNTIME_STAMP): requirements.txt
	@scripts/system-deps
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/pip install -q --disable-pip-version-check --require-hashes -r requirements.txt
	@touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt
	@scripts/system-deps --all
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/pip install -q --disable-pip-version-check --require-hashes -r requirements-dev.txt
	@touch $(RUNTIME_STAMP) $@

install: $(RUNTIME_STAMP)
install-dev: $(DEV_STAMP)

## Recompile requirements.txt and requirements-dev.txt after editing requirements*.in (uv,
## from PyPI); locked versions stay unless UPGRADE="-P name" (one package) or UPGRADE=-U.
UPGRADE ?=
lock:
	@test -x $(VENV)/bin/uv || $(MAKE) --no-print-directory install-dev
	scripts/lock $(UPGRADE)

# Links in mails and feeds point where `make run` serves, unless BLOG_SITE_URL is set (in
# the environment or in .env).
SITE_URL_DEFAULT = $(if $(BLOG_SITE_URL)$(shell grep -s '^BLOG_SITE_URL=' .env),,BLOG_SITE_URL=http://$(HOST):$(PORT))

## Serve the blog on http://$(HOST):$(PORT) with the embedded backends.
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	$(SITE_URL_DEFAULT) $(VENV)/bin/gunicorn -c deploy/gunicorn.conf.py --bind $(HOST):$(PORT) blog_project.wsgi

## Django's development server with DEBUG on.
dev: install
	$(PY) manage.py migrate --noinput
	$(SITE_URL_DEFAULT) DJANGO_DEBUG=true $(PY) manage.py runserver $(HOST):$(PORT)

demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py seed_demo_comments

## The whole suite: embedded backends, then MariaDB + Redis (mandatory, never skipped),
## then the date-sensitive apps again with the clock a year and a month ahead.
test: install-dev test-embedded test-real test-shifted

test-embedded: install-dev
	BLOG_VAR_DIR=$(EMBEDDED_VAR) $(VENV)/bin/pytest $(PYTEST_ARGS)

test-real: install-dev
	@scripts/services
	BLOG_TEST_BACKENDS=real BLOG_VAR_DIR=$(REAL_VAR) \
	DATABASE_URL=$(TEST_DB_URL) REDIS_URL=$(TEST_REDIS_URL) BLOG_CACHE_PREFIX=blogtest \
	CELERY_TASK_ALWAYS_EAGER=true $(VENV)/bin/pytest $(PYTEST_ARGS)

# Python's clock moved 400 days ahead, to half past midnight in the site's time zone (the
# day before in UTC): a test that passes only near the day it was written (a hard-coded
# date beside a fixture made "now") or at the hours it was written in (a day read in the
# wrong zone) fails here today. Browser tests drive a separate process whose clock cannot
# move, so they stay out.
test-shifted: install-dev
	BLOG_TEST_CLOCK_SHIFT_DAYS=400 BLOG_VAR_DIR=$(SHIFTED_VAR) $(VENV)/bin/pytest articles comments stats transfer \
	  -m "not browser" -q $(PYTEST_ARGS)

lint: install-dev
	scripts/check_test_dates.py
	scripts/lock --check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec compose.yaml
	$(VENV)/bin/yamllint --strict .
	$(PY) scripts/check_migrations.py
	$(VENV)/bin/mypy

## Static types: mypy with django-stubs over the apps and blog_project ([tool.mypy] in
## pyproject.toml; tests and migrations left out).
typecheck: install-dev
	$(VENV)/bin/mypy

## The documentation site (mkdocs.yml, docs/) into site/ (git-ignored). --strict: a warning,
## a page missing from the nav, a link to a missing page or heading fails; so does a
## configuration reference that no longer matches .env.example.
docs: install-dev
	$(PY) scripts/config_table.py --check
	$(VENV)/bin/mkdocs build --strict

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

cluster: install
	deploy/cluster.sh

# The audit's Node tools, pinned by audit/package-lock.json, from the npm registry. No
# install scripts run: none may download a browser or a Java runtime (Debian's are used).
AUDIT_STAMP := audit/node_modules/.installed-$(shell cat audit/package-lock.json | sha1sum | cut -c1-10)
$(AUDIT_STAMP): audit/package.json audit/package-lock.json
	@scripts/system-deps --audit
	cd audit && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

## Lighthouse, the Nu HTML checker and axe-core on a seeded demo blog (audit/run.sh).
audit: install $(AUDIT_STAMP)
	audit/run.sh

bench: install-dev
	bench/run.sh

## Refresh the Chinese catalogue after changing strings (needs GNU gettext), then compile.
messages: install-dev
	$(PY) manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var --ignore=bench --ignore=tests --ignore="*/tests/*"
	$(PY) manage.py compilemessages -l zh_Hans --ignore=.venv

## Database, media and Redis's not yet rolled-up counters into BACKUP_DIR (default backups/<time>).
BACKUP_DIR ?= backups/$(shell date -u +%Y%m%d-%H%M%S)
backup: install
	$(PY) manage.py backup_site $(BACKUP_DIR)

## Everything from BACKUP_DIR back (stop the web and worker processes first).
restore: install
	@test -n "$(BACKUP_DIR)" && test -d "$(BACKUP_DIR)" || { echo "make restore BACKUP_DIR=backups/<time>"; exit 2; }
	$(PY) manage.py restore_site $(BACKUP_DIR)

clean:
	rm -rf var/test-embedded var/test-real var/test-shifted var/audit
