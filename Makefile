# Two commands do all the set-up on a fresh machine (see README):
#   make run    installs everything, prepares the models, builds the index, starts the app
#   make test   installs what the tests need and runs them
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export HF_HUB_OFFLINE=1
export TRANSFORMERS_OFFLINE=1
export HF_HUB_DISABLE_TELEMETRY=1
export GRADIO_ANALYTICS_ENABLED=False
export ANONYMIZED_TELEMETRY=False

.PHONY: setup run test test-fast ingest eval bench browser clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e '.[test]'
	touch $@

setup: $(VENV)/.installed
	$(PY) -m assistant models

ingest: setup
	$(PY) -m assistant ingest

run: ingest
	$(PY) app.py

browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver) >/dev/null \
	  || echo "chromium kunde inte installeras: webbläsartesterna hoppas över"; }

test: setup browser
	$(PY) -m pytest

test-fast: $(VENV)/.installed
	$(PY) -m pytest -m "not slow"

eval: ingest
	$(PY) -m evals run

bench: ingest
	$(PY) -m evals bench

clean:
	rm -rf index/builds index/live index/models
