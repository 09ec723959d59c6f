# The project's commands (README). `make run` and `make test` do all set-up on
# a fresh machine; every step is skipped when its inputs did not change.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        := .venv
BIN         := $(VENV)/bin
STAMP       := $(VENV)/.installed
SPACY_MODEL := models/spacy-de/meta.json
MODEL       := models/current.tar.gz
TRAIN_DATA  := config.yml domain.yml $(shell find data -name '*.yml' 2>/dev/null)

export TF_CPP_MIN_LOG_LEVEL ?= 2
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Rasa sends error reports and telemetry unless told not to; nothing may leave the machine.
export RASA_TELEMETRY_ENABLED := false

.PHONY: help install train run run-production test lint evaluate bench shell lock clean chromium nginx

help:
	@echo "make run       set up everything (first time: ~5 min) and start the assistant"
	@echo "make run-production  the same with 2 Rasa servers behind nginx, PostgreSQL, Redis, RabbitMQ"
	@echo "make test      set up everything and run all tests"
	@echo "make install   Python 3.10 venv, pinned dependencies, German spaCy pipeline"
	@echo "make train     train the Rasa model if data, config or domain changed"
	@echo "make evaluate  NLU evaluation on the held-out set -> docs/nlu-evaluation.md"
	@echo "make bench     benchmarks (NLU accuracy, latency, memory) -> docs/"
	@echo "make shell     chat in the terminal (rasa shell)"

# --- set-up -----------------------------------------------------------------
$(STAMP): pyproject.toml requirements.lock scripts/find-python310.sh
	@py=$$(scripts/find-python310.sh) || exit 1; \
	if [ ! -x $(BIN)/python ] || ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then \
	  echo "Creating $(VENV) with $$py"; rm -rf $(VENV); "$$py" -m venv $(VENV) || exit 1; \
	fi
	$(BIN)/python -m pip install --quiet --upgrade 'pip==24.0' 2>&1 | grep -v 'is ignored' || true
	$(BIN)/python -m pip install --quiet -r requirements.lock 2>&1 | grep -v 'is ignored'; test $${PIPESTATUS[0]} -eq 0
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e . 2>&1 | grep -v 'is ignored'; test $${PIPESTATUS[0]} -eq 0
	touch $@

$(SPACY_MODEL): bot/spacy_pipeline.py | $(STAMP)
	$(BIN)/python -m bot.spacy_pipeline models/spacy-de

install: $(STAMP) $(SPACY_MODEL)

# Data, config, domain, the spaCy pipeline and the code of the components and
# policies make the model stale. `bot train` checks the inputs' hashes and lets
# Rasa's cache restore every part that did not change (docs/maintainers.md).
COMPONENT_CODE := $(wildcard bot/nlu/*.py bot/policies/*.py) bot/urgency.py
$(MODEL): $(TRAIN_DATA) $(SPACY_MODEL) $(COMPONENT_CODE) | $(STAMP)
	$(BIN)/bot train

train: install $(MODEL)

# --- use ----------------------------------------------------------------------
run: train
	$(BIN)/bot run

# Production stack on this machine (README): BOT_RASA_SERVERS Rasa servers behind
# nginx on RASA_PORT, PostgreSQL, Redis, RabbitMQ on their local default ports.
run-production: train nginx
	BOT_PROFILE=production $(BIN)/bot run

shell: train
	$(BIN)/bot shell

# --- checks -------------------------------------------------------------------
lint: install
	$(BIN)/ruff check .

# Headless Chromium for tests/browser (Debian package, only if missing).
chromium:
	scripts/ensure-chromium.sh

# nginx for the production stack and its tests (Debian package, only if missing).
nginx:
	scripts/ensure-nginx.sh

test: train lint chromium nginx
	$(BIN)/bot validate
	$(BIN)/python -m pytest

evaluate: train
	$(BIN)/bot evaluate

# nginx too: without it the production rows of the benchmark are skipped.
bench: train nginx
	$(BIN)/bot bench

# Re-pin every transitive dependency after changing pyproject.toml.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]' 2>&1 | grep -v 'is ignored' || true
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^kpb-dueren' > requirements.lock

clean:
	rm -rf models results .pytest_cache
