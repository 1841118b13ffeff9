"""The baseline: a plain llama-index pipeline, the setup most teams start from.

Same chunks (from our index), same embedding model, same local LLM, but nothing of ours on top:
an in-memory `VectorStoreIndex` over `TextNode`s (text = chunk text, metadata file/lines, embedded
the way llama-index embeds by default), `as_query_engine(similarity_top_k=2)` with llama-index's
default prompts, no table store, no BM25, no conversation rewrite, no refusal logic (an answer
that says it does not know counts as refused). Models are passed explicitly; llama-index's global
`Settings` is never touched.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

from . import metrics

TOP_K = 2

# Qwen2.5 is a ChatML model; llama-index's LlamaCPP needs to be told how to wrap a prompt.
_CHATML_SYSTEM = "You are a helpful assistant."


def chatml_completion_to_prompt(completion: str, system_prompt: str | None = None) -> str:
    return (f"<|im_start|>system\n{system_prompt or _CHATML_SYSTEM}<|im_end|>\n"
            f"<|im_start|>user\n{completion}<|im_end|>\n<|im_start|>assistant\n")


def chatml_messages_to_prompt(messages) -> str:
    parts = []
    if not messages or _role(messages[0]) != "system":
        parts.append(f"<|im_start|>system\n{_CHATML_SYSTEM}<|im_end|>\n")
    for m in messages:
        parts.append(f"<|im_start|>{_role(m)}\n{m.content}<|im_end|>\n")
    parts.append("<|im_start|>assistant\n")
    return "".join(parts)


def _role(message) -> str:
    return getattr(message.role, "value", str(message.role))


def make_embed_model(embedder):
    """Our embedder (query/passage prompts included) as a llama-index `BaseEmbedding`."""
    from llama_index.core.embeddings import BaseEmbedding
    from pydantic import PrivateAttr

    class OurEmbedding(BaseEmbedding):
        _embedder: Any = PrivateAttr()

        def __init__(self, embedder, **kwargs) -> None:
            super().__init__(model_name=getattr(embedder, "name", "embedder"), embed_batch_size=16, **kwargs)
            self._embedder = embedder

        @classmethod
        def class_name(cls) -> str:
            return "KronobergEmbedding"

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._embedder.embed_queries([query])[0].tolist()

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._embedder.embed_passages([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return [v.tolist() for v in self._embedder.embed_passages(list(texts))]

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        async def _aget_text_embedding(self, text: str) -> list[float]:
            return self._get_text_embedding(text)

    return OurEmbedding(embedder)


def make_adapter_llm(our_llm, context_window: int, max_tokens: int):
    """A llama-index `CustomLLM` over one of our LLM backends (used when llama-index-llms-llama-cpp is missing)."""
    from llama_index.core.llms import CompletionResponse, CustomLLM, LLMMetadata
    from llama_index.core.llms.callbacks import llm_completion_callback
    from pydantic import PrivateAttr

    class OurLLM(CustomLLM):
        context_window: int = 4096
        num_output: int = 256
        model_name: str = "local"
        _llm: Any = PrivateAttr()

        def __init__(self, llm, **kwargs) -> None:
            super().__init__(**kwargs)
            self._llm = llm

        @property
        def metadata(self) -> LLMMetadata:
            return LLMMetadata(context_window=self.context_window, num_output=self.num_output,
                               model_name=self.model_name)

        @llm_completion_callback()
        def complete(self, prompt: str, formatted: bool = False, **kwargs) -> CompletionResponse:
            text = "".join(self._llm.stream([{"role": "user", "content": prompt}], self.num_output))
            return CompletionResponse(text=text)

        @llm_completion_callback()
        def stream_complete(self, prompt: str, formatted: bool = False, **kwargs):
            text = ""
            for delta in self._llm.stream([{"role": "user", "content": prompt}], self.num_output):
                text += delta
                yield CompletionResponse(text=text, delta=delta)

    return OurLLM(our_llm, context_window=context_window, num_output=max_tokens,
                  model_name=getattr(our_llm, "name", "local"))


def make_llm(settings, prefer: str = "auto"):
    """(llama-index LLM, description). Local: llama-index's LlamaCPP when installed, else our adapter."""
    mode = settings.mode if settings.mode in ("local", "openai") else "local"
    if mode == "openai":
        from assistant.llm import OpenAICompatible

        return make_adapter_llm(OpenAICompatible(settings), settings.llm_context_tokens,
                                settings.llm_max_tokens), "adapter:openai"
    from assistant.llm import LocalLlamaCpp, ensure_local_gguf

    if prefer in ("auto", "llamacpp"):
        try:
            from llama_index.llms.llama_cpp import LlamaCPP
        except ImportError:
            if prefer == "llamacpp":
                raise
        else:
            llm = LlamaCPP(
                model_path=str(ensure_local_gguf(settings)),
                temperature=0.0,
                max_new_tokens=settings.llm_max_tokens,
                context_window=settings.llm_context_tokens,
                messages_to_prompt=chatml_messages_to_prompt,
                completion_to_prompt=chatml_completion_to_prompt,
                model_kwargs={"n_threads": settings.llm_threads, "n_threads_batch": settings.llm_batch_threads},
                verbose=False,
            )
            return llm, "llama-index-llms-llama-cpp"
    return make_adapter_llm(LocalLlamaCpp(settings), settings.llm_context_tokens,
                            settings.llm_max_tokens), "adapter:LocalLlamaCpp"


class EmbeddingCache:
    """Node vectors keyed by the exact text llama-index embeds, so a second run skips the embedding."""

    def __init__(self, path: Path, model: str) -> None:
        self.path = Path(path)
        self.model = model
        self.vectors: dict[str, list[float]] = {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("model") == model:
                self.vectors = data["vectors"]
        except (OSError, ValueError, KeyError):
            pass

    @staticmethod
    def key(node) -> str:
        from llama_index.core.schema import MetadataMode

        return hashlib.sha256(node.get_content(metadata_mode=MetadataMode.EMBED).encode("utf-8")).hexdigest()

    def fill(self, nodes) -> None:
        for node in nodes:
            vector = self.vectors.get(self.key(node))
            if vector is not None:
                node.embedding = vector

    def save(self, nodes) -> None:
        vectors = {self.key(n): n.embedding for n in nodes if n.embedding is not None}
        if vectors == self.vectors:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"model": self.model, "vectors": vectors}), encoding="utf-8")
        tmp.replace(self.path)


class BaselineSystem:
    name = "baseline"

    def __init__(self, settings, index=None, embedder=None, llm=None, prefer_llm: str = "auto",
                 progress: bool = False, cache_path: Path | None = None) -> None:
        from llama_index.core import VectorStoreIndex
        from llama_index.core.schema import TextNode

        from assistant.embedding import make_embedder
        from assistant.index import Index

        self.settings = settings
        self.mode = settings.mode if settings.mode in ("local", "openai") else "local"
        self.index = index or Index.open(settings)
        embedder = embedder or make_embedder(settings)
        if llm is None:
            llm, self.llm_kind = make_llm(settings, prefer_llm)
        else:
            self.llm_kind = type(llm).__name__
        nodes = [TextNode(id_=c.id, text=c.text,
                          metadata={"file": c.file, "lines": f"{c.line_start}-{c.line_end}"})
                 for c in self.index.chunks.values()]
        t = time.perf_counter()
        cache = EmbeddingCache(cache_path, getattr(embedder, "name", "")) if cache_path else None
        if cache:
            cache.fill(nodes)  # llama-index embeds only the nodes that have no embedding yet
        self.vector_index = VectorStoreIndex(nodes, embed_model=make_embed_model(embedder), show_progress=progress)
        if cache:
            cache.save(nodes)
        self.build_s = time.perf_counter() - t
        self.engine = self.vector_index.as_query_engine(similarity_top_k=TOP_K, llm=llm)

    def answer(self, item: dict[str, Any]) -> dict[str, Any]:
        # A plain query engine has no conversation memory: a follow-up is asked as it stands.
        started = time.perf_counter()
        response = self.engine.query(item["question"])
        text = str(response.response or "").strip()
        contexts, citations = [], []
        for n, hit in enumerate(response.source_nodes, start=1):
            chunk = self.index.chunks.get(hit.node.node_id)
            node_text = hit.node.get_content()
            file = chunk.file if chunk else hit.node.metadata.get("file", "")
            info = self.index.documents.get(file)
            common = {
                "file": file,
                "source_file": info.source_file if info else file,
                "title": info.title if info else "",
                "section": chunk.section_label if chunk else "",
                "line_start": chunk.line_start if chunk else 0,
                "line_end": chunk.line_end if chunk else 0,
                "page": chunk.page_start if chunk else None,
            }
            contexts.append({"text": node_text, **common, "score": round(float(hit.score or 0.0), 4)})
            citations.append({"n": n, **common, "cite": info.cite if info else file,
                              "kind_label": info.kind_label if info else "", "quote": node_text,
                              "passage": node_text})
        return {
            "question": item["question"],
            "standalone_question": item["question"],
            "answer": text,
            "refused": metrics.looks_like_refusal(text),
            "mode": self.mode,
            "verification": "not_needed",
            "notice": "",
            "citations": citations,
            "contexts": contexts,
            "cells": [],
            "timings": {"total_s": round(time.perf_counter() - started, 3)},
        }
