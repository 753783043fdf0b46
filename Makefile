# Kanbot — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# End-to-end tests mostly wait on the network, so four workers help even on two cores; a file's tests
# stay together so their module fixtures (the demo) start once.
PYTEST_ARGS ?= -n 4 --dist loadfile

.DEFAULT_GOAL := help
.PHONY: help install run demo test lint fmt bench bench-quick reliability soak clean

help: ## Show the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install Kanbot with its development tools

run: $(STAMP) ## Run Kanbot: the bot when KANBOT_BOT_TOKEN is set (env or .env), the offline demo otherwise
	@if [ -n "$$KANBOT_BOT_TOKEN" ] || grep -qsE '^KANBOT_BOT_TOKEN=.+' .env; then \
		$(BIN)/kanbot init && exec $(BIN)/kanbot run; \
	else \
		echo "KANBOT_BOT_TOKEN is not set: starting the offline demo (see README)."; \
		exec $(BIN)/kanbot demo; \
	fi

demo: $(STAMP) ## Run the offline demo: emulated Telegram in the browser, demo data, the real bot
	$(BIN)/kanbot demo

test: $(STAMP) lint ## Lint, then run the whole test suite (PostgreSQL too when KANBOT_TEST_DATABASE_URL is set)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP) ## ruff (lint + format check), mypy, import-linter
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: $(STAMP) ## Format and auto-fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP) ## Run the benchmarks and write docs/performance.md
	$(BIN)/python -m bench

bench-quick: $(STAMP) ## A two-minute subset of the benchmarks
	$(BIN)/python -m bench --quick

reliability: $(STAMP) ## The long fault and reliability tests
	$(BIN)/pytest -m reliability -p no:randomly tests/reliability

soak: $(STAMP) ## A ten-minute soak under load (SOAK_ARGS="--minutes 2" for a short one)
	$(BIN)/python -m tests.reliability.soak $(SOAK_ARGS)

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

.PHONY: translations
translations: $(STAMP) ## Extract the chat's texts to bot/locales/messages.pot and update the ru/ar catalogs
	$(BIN)/pybabel extract -F babel.cfg -k tr -k self -k label -k label_n:1,2 -c TRANSLATORS: \
		--add-location=file --project=Kanbot \
		--version=$$(grep -m1 '^version' pyproject.toml | cut -d'"' -f2) \
		--copyright-holder="Kanbot contributors" -o bot/locales/messages.pot . \
		&& $(BIN)/pybabel update -i bot/locales/messages.pot -d bot/locales --previous --ignore-obsolete
