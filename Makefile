# Two commands do all the set-up on a fresh machine (see README):
#   make run    installs the default (extractive) app, prepares the models, builds the index, starts it
#   make test   installs what the tests need (incl. the local LLM) and runs them
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export HF_HUB_OFFLINE=1
export TRANSFORMERS_OFFLINE=1
export HF_HUB_DISABLE_TELEMETRY=1
export GRADIO_ANALYTICS_ENABLED=False
export ANONYMIZED_TELEMETRY=False

# llama-cpp-python is on PyPI only as source, and its default build targets the build machine's
# own instruction set (GGML_NATIVE=ON). On CPUs with AMX (Sapphire Rapids and later) that build
# segfaults in ggml's AMX kernels on the first generation (ggml-org/llama.cpp issue 20824), and a
# native wheel in pip's cache carries one host's instruction set to the next. So we build one
# portable x86-64 wheel ourselves (AVX2/FMA/F16C, no AVX-512, no AMX), keep it in a directory named
# after the version and the flags, and install exactly that file: every machine runs the same code.
LLAMA_CPP_VERSION := 0.3.36
ifeq ($(shell uname -m),x86_64)
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
  -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF \
  -DGGML_AVX_VNNI=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DGGML_BACKEND_DL=OFF
else
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_BACKEND_DL=OFF
endif
LLAMA_FLAGS_ID := $(shell printf '%s' '$(LLAMA_CMAKE_ARGS)' | sha1sum | cut -c1-12)
WHEEL_CACHE ?= $(HOME)/.cache/kronoberg-assistenten/wheels
LLAMA_WHEEL_DIR := $(WHEEL_CACHE)/llama-cpp-python-$(LLAMA_CPP_VERSION)-portable-$(LLAMA_FLAGS_ID)
LLAMA_WHEEL_DONE := $(LLAMA_WHEEL_DIR)/.built

.PHONY: setup llm run test test-fast ingest eval bench browser clean llama-wheel

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e '.'
	touch $@

$(LLAMA_WHEEL_DONE):
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	mkdir -p $(LLAMA_WHEEL_DIR)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" FORCE_CMAKE=1 CMAKE_BUILD_PARALLEL_LEVEL=2 \
	  $(PY) -m pip wheel --no-deps --no-binary llama-cpp-python --no-cache-dir \
	  -w $(LLAMA_WHEEL_DIR) llama-cpp-python==$(LLAMA_CPP_VERSION)
	touch $@

llama-wheel: $(LLAMA_WHEEL_DONE)

# The local LLM stack (extra `llm`) and the test tools, on top of the default install.
$(VENV)/.installed-llm: $(VENV)/.installed $(LLAMA_WHEEL_DONE)
	$(PY) -m pip install --force-reinstall --no-deps $(LLAMA_WHEEL_DIR)/llama_cpp_python-$(LLAMA_CPP_VERSION)-*.whl
	$(PY) -m pip install --find-links $(LLAMA_WHEEL_DIR) -e '.[llm,test]'
	touch $@

setup: $(VENV)/.installed
	$(PY) -m assistant models

llm: $(VENV)/.installed-llm
	$(PY) -m assistant models

ingest: setup
	$(PY) -m assistant ingest

run: ingest
	$(PY) app.py

browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver) >/dev/null \
	  || echo "chromium kunde inte installeras: webbläsartesterna hoppas över"; }

test: llm browser
	$(PY) -m pytest

test-fast: $(VENV)/.installed-llm
	$(PY) -m pytest -m "not slow"

eval: ingest
	$(PY) -m evals run

bench: llm ingest
	$(PY) -m evals bench

clean:
	rm -rf index/builds index/live index/models
