# sls-template: the template repo's own commands. `make help` lists them.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
UV := $(shell command -v uv 2>/dev/null)
DEMO_DIR ?= .demo
# pytest-xdist workers for `make test` (the slow tests are mostly waiting on subprocesses).
WORKERS ?= 2
# The demo's sub-makes find uv from the template venv when the machine has none; the
# machine's own python3 and uv still come first on PATH.
DEMO_PATH := $(PATH):$(abspath $(VENV))/bin
# chalice-devstack, the package generated services depend on: its own venv, tests and lint.
DEVSTACK_DIR := packages/chalice-devstack
DEVSTACK_VENV := $(DEVSTACK_DIR)/.venv
DEVSTACK_PYTHON := $(DEVSTACK_VENV)/bin/python

.DEFAULT_GOAL := help
.PHONY: help install lock test template-test ci bench-tests lint demo baseline clean devstack-test devstack-test-all devstack-lint browser

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

install: $(VENV)/.installed ## Create $(VENV) with the template's dev tools (uv when present, pip otherwise)

# uv.lock pins every version; pip installs the same ones from its hash-pinned export (make lock writes both).
UV_SYNC = UV_PROJECT_ENVIRONMENT=$(abspath $(VENV)) uv sync -q --locked --no-install-project

$(VENV)/.installed: pyproject.toml uv.lock requirements-dev.txt
ifdef UV
	@echo "==> creating $(VENV) with uv (the versions in uv.lock)"
	@uv venv -q --allow-existing --python python3 $(VENV)
	@$(UV_SYNC) --extra dev
else
	@echo "==> creating $(VENV) with pip (install uv for much faster installs), hash-pinned from requirements-dev.txt"
	@python3 -m venv $(VENV)
	@$(PYTHON) -m pip install -q --upgrade pip
	@$(PYTHON) -m pip install -q --require-hashes -r requirements-dev.txt
endif
	@touch $@

# Not after install: a pyproject.toml edit makes the lock stale, which the uv install refuses. The venv's uv (a dev
# dependency) serves when uv is not on PATH.
LOCK_UV := $(or $(UV),$(VENV)/bin/uv)

lock: ## Re-lock the template (uv.lock, requirements-*.txt) and the generated service's (scripts/lock_service.py; UPGRADE=1)
	@$(LOCK_UV) lock $(if $(UPGRADE),--upgrade)
	@$(LOCK_UV) export -q --frozen --no-annotate --no-emit-project --extra dev -o requirements-dev.txt
	@$(LOCK_UV) export -q --frozen --no-annotate --no-emit-project --extra dev --extra baseline -o requirements-baseline.txt
	@$(PYTHON) -m scripts.lock_service $(if $(UPGRADE),--upgrade)

# The template tests marked `ci` take minutes each (the generated services' `make test-all`, their lessons, a pip
# install from scratch): `make test` leaves them out. `make ci` runs every template test in one pytest run, longest
# first (tests/conftest.py), except the generated services' `make test` (marked fast_path), which their
# `make test-all` contains. --maxschedchunk 1: a worker takes the next test when it is free (by default the first
# worker is handed the first quarter of the list, every long test with it). Nothing runs only outside CI.
# make test runs its two suites side by side: they share nothing, and each leaves a core idle at times (a worker
# done while the other ends its last long test, devstacks waiting on events); --output-sync prints each whole.
test: install $(DEVSTACK_VENV)/.installed ## chalice-devstack's tests and the template's, side by side (every combination; all-on/all-off fast paths)
	@echo "==> chalice-devstack's tests and the template's, side by side: each suite's output shows when it ends"
	@$(MAKE) --no-print-directory -j2 --output-sync=target devstack-test template-test

template-test: install ## The template's tests of make test (-m 'not ci')
	@echo "==> template tests ($(WORKERS) workers); the first run also builds the generated service's venv in .cache/"
	@$(PYTHON) -m pytest -n $(WORKERS) --dist worksteal --durations=8 -m 'not ci'

ci: install browser devstack-test-all ## What CI runs (.ci/run): make browser, all of chalice-devstack's tests, every template test but fast_path
	@echo "==> every template test but the fast path make test ($(WORKERS) workers, longest first): all-on/all-off make test-all and lessons, a fresh pip install, the rest"
	@$(PYTHON) -m pytest -n $(WORKERS) --dist load --maxschedchunk 1 --durations=10 -m 'not fast_path'

# chalice-devstack's console test drives a headless Chromium (Debian's chromium + chromium-driver); without them
# it skips, saying so. CI runs as root with apt, so `make ci` installs them first and the test runs there.
CHROMIUM ?= /usr/bin/chromium
CHROMEDRIVER ?= /usr/bin/chromedriver
BROWSER_PACKAGES := chromium chromium-driver

browser: ## Install Chromium and its driver (apt-get, as root) for chalice-devstack's console test, when missing
	@if [ -x $(CHROMIUM) ] && [ -x $(CHROMEDRIVER) ]; then \
		echo "==> browser for the console test: $$($(CHROMIUM) --version 2>/dev/null)"; \
	elif [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
		echo "==> no Chromium and no root apt-get here: the console's browser test will skip (as root: apt-get install $(BROWSER_PACKAGES))"; \
	else \
		echo "==> installing $(BROWSER_PACKAGES) with apt-get (the console's browser test)"; \
		apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(BROWSER_PACKAGES) >/dev/null; \
	fi

bench-tests: install $(DEVSTACK_VENV)/.installed ## Wall time of each suite of make test and make ci (COLD=1: empty .cache; SKIP_CI=1)
	@$(PYTHON) -m scripts.bench_tests --workers $(WORKERS) $(if $(COLD),--cold) $(if $(SKIP_CI),--skip-ci)

# The template venv always has uv (a dev dependency), so the package venv uses it even without uv on PATH.
$(DEVSTACK_VENV)/.installed: $(VENV)/.installed $(DEVSTACK_DIR)/pyproject.toml
	@echo "==> creating $(DEVSTACK_VENV) (chalice-devstack, editable, with its test tools)"
	@$(VENV)/bin/uv venv -q --allow-existing --python python3 $(DEVSTACK_VENV)
	@VIRTUAL_ENV=$(abspath $(DEVSTACK_VENV)) $(VENV)/bin/uv pip install -q --compile-bytecode -e '$(DEVSTACK_DIR)[test]'
	@touch $@

# By test file (--dist loadfile): a module's devstack starts once, not on each worker that gets one of its tests.
DEVSTACK_PYTEST := cd $(DEVSTACK_DIR) && .venv/bin/python -m pytest -n $(WORKERS) --dist loadfile --durations=5

devstack-test: $(DEVSTACK_VENV)/.installed ## chalice-devstack's tests but the `slow` ones (its costliest end-to-end runs: pyproject.toml names them)
	@echo "==> chalice-devstack tests (not slow)"
	@$(DEVSTACK_PYTEST) -m 'not slow'

devstack-test-all: $(DEVSTACK_VENV)/.installed ## All of chalice-devstack's tests (its test apps, the new-project walk, the browser)
	@echo "==> chalice-devstack tests, all"
	@$(DEVSTACK_PYTEST)

devstack-lint: $(DEVSTACK_VENV)/.installed ## ruff + mypy on chalice-devstack
	@cd $(DEVSTACK_DIR) && .venv/bin/python -m ruff check . && .venv/bin/python -m ruff format --check . && .venv/bin/python -m mypy

lint: install devstack-lint ## ruff + mypy on the hooks, tests and scripts (and chalice-devstack)
	@echo "==> ruff"
	@$(PYTHON) -m ruff check hooks tests scripts loadtests local_extensions.py
	@echo "==> mypy"
	@$(PYTHON) -m mypy

demo: install ## Generate the default service into $(DEMO_DIR)/, run its tests, walk its API and patterns on its devstack
	@echo "==> generating the default service into $(DEMO_DIR)/"
	@rm -rf $(DEMO_DIR)
	@$(PYTHON) scripts/template_snapshot.py $(DEMO_DIR)/.template >/dev/null
	@$(PYTHON) -m cookiecutter --no-input --output-dir $(DEMO_DIR) $(DEMO_DIR)/.template
	@set -e; service="$$(ls -d $(DEMO_DIR)/*/)"; \
	echo "==> $$service: make install"; \
	PATH="$(DEMO_PATH)" $(MAKE) --no-print-directory -C "$$service" install VENV=.venv; \
	echo "==> $$service: make test"; \
	PATH="$(DEMO_PATH)" $(MAKE) --no-print-directory -C "$$service" test VENV=.venv; \
	echo "==> $$service: a walk through the API and each pattern on its devstack (:8000 API, :4566 AWS)"; \
	cd "$$service" && .venv/bin/python $(abspath scripts/demo_walk.py)

# make baseline's profile and devstack mode (split: the AWS endpoint in its own process).
BASELINE_ARGS ?= --devstack split --users 10 --run-time 60s

baseline: $(VENV)/.installed-baseline ## Load-test the default service on its devstack; save loadtests/baselines/<date>/
	@PATH="$(DEMO_PATH)" $(PYTHON) loadtests/baseline.py $(BASELINE_ARGS)

$(VENV)/.installed-baseline: $(VENV)/.installed requirements-baseline.txt
ifdef UV
	@$(UV_SYNC) --extra dev --extra baseline
else
	@$(PYTHON) -m pip install -q --require-hashes -r requirements-baseline.txt
endif
	@touch $@

clean: ## Remove the venv, caches and the demo
	rm -rf $(VENV) $(DEVSTACK_VENV) .cache $(DEMO_DIR) .pytest_cache .ruff_cache .mypy_cache *.egg-info
