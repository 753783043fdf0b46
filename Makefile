# Kanbot — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Two install steps: what running Kanbot needs (`make run`), then the development tools on top
# (`make test`, `make lint`...). Each leaves a stamp, redone when pyproject.toml changes.
RUNTIME := $(VENV)/.installed-runtime
DEV     := $(VENV)/.installed-dev
# pip tells what it installs, one short line a package (its own output is a screenful of resolver
# notes); its errors and warnings go to stderr and show as they are. No .pyc compiling at install:
# Python compiles what it imports on first use, and the first run comes sooner.
PIP := PYTHONUNBUFFERED=1 $(BIN)/python -m pip install --no-compile --disable-pip-version-check
SAY_PACKAGES := awk '/^(Collecting|Processing) /{ n++; name=$$2; sub(/.*\//, "", name); \
	sub(/(-[0-9]|[<>=!~;[(]).*/, "", name); printf "    %3d  %s\n", n, name; fflush() } \
	/^Successfully installed/{ print "    done: " NF-2 " packages installed"; fflush() }'
# End-to-end tests mostly wait on the network, so four workers help even on two cores; a file's tests
# stay together so their module fixtures (the demo) start once.
PYTEST_ARGS ?= -n 4 --dist loadfile

SHELL := bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help
.PHONY: help install install-runtime run demo test test-fast lint fmt bench bench-quick reliability soak screenshots clean

help: ## Show the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(BIN)/python:
	@echo "==> Creating $(VENV) with $$($(PYTHON) --version 2>&1)"
	@$(PYTHON) -m venv $(VENV)

$(RUNTIME): pyproject.toml | $(BIN)/python
	@echo "==> Installing Kanbot and the packages it runs on (a minute the first time)"
	@$(PIP) -e . | $(SAY_PACKAGES)
	@touch $@

$(DEV): $(RUNTIME)
	@echo "==> Installing the development tools: pytest, ruff, mypy, playwright..."
	@$(PIP) -e ".[dev]" | $(SAY_PACKAGES)
	@touch $@

install-runtime: $(RUNTIME) ## Create .venv and install what running Kanbot needs (make run does it)

install: $(DEV) ## Create .venv and install Kanbot with its development tools

run: $(RUNTIME) ## Run Kanbot: the bot when KANBOT_BOT_TOKEN is set (env or .env), the offline demo otherwise
	@if [ -n "$$KANBOT_BOT_TOKEN" ] || grep -qsE '^KANBOT_BOT_TOKEN=.+' .env; then \
		$(BIN)/kanbot init && exec $(BIN)/kanbot run; \
	else \
		echo "KANBOT_BOT_TOKEN is not set: starting the offline demo (see README)."; \
		exec $(BIN)/kanbot demo; \
	fi

demo: $(RUNTIME) ## Run the offline demo: emulated Telegram in the browser, demo data, the real bot
	$(BIN)/kanbot demo

test: $(DEV) lint ## Lint, then run the whole test suite (PostgreSQL too when KANBOT_TEST_DATABASE_URL is set)
	$(BIN)/pytest $(PYTEST_ARGS)

test-fast: $(DEV) ## The inner loop: every test but the slow ones that start processes or a browser (no lint)
	$(BIN)/pytest $(PYTEST_ARGS) -m "not slow"

lint: $(DEV) ## ruff (lint + format check), mypy, import-linter
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: $(DEV) ## Format and auto-fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(DEV) ## Run the benchmarks and write docs/performance.md
	$(BIN)/python -m bench

bench-quick: $(DEV) ## A two-minute subset of the benchmarks
	$(BIN)/python -m bench --quick

reliability: $(DEV) ## The long fault and reliability tests
	$(BIN)/pytest -m reliability -p no:randomly tests/reliability

soak: $(DEV) ## A ten-minute soak under load (SOAK_ARGS="--minutes 2" for a short one)
	$(BIN)/python -m tests.reliability.soak $(SOAK_ARGS)

screenshots: $(DEV) ## Phone screenshots (390×844) of the chat and the board in en, ru, ar into docs/images/
	$(BIN)/python docs/images/shoot.py

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

.PHONY: translations
translations: $(DEV) ## Extract the chat's texts to bot/locales/messages.pot and update the ru/ar catalogs
	$(BIN)/pybabel extract -F babel.cfg -k tr -k self -k label -k label_n:1,2 -c TRANSLATORS: \
		--add-location=file --project=Kanbot \
		--version=$$(grep -m1 '^version' pyproject.toml | cut -d'"' -f2) \
		--copyright-holder="Kanbot contributors" -o bot/locales/messages.pot . \
		&& $(BIN)/pybabel update -i bot/locales/messages.pot -d bot/locales --previous --ignore-obsolete
