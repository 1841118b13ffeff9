"""Logging, configured once at the edge (the CLI's `main`, the app's `main`) from `Settings.log_level`.

Messages go to stderr, one line each, so journald or docker keeps them with the service. Nothing
else in the package configures logging; modules only call `logging.getLogger(__name__)`.

Libraries are kept quiet: the progress bars that transformers and huggingface_hub draw while
loading a model ("Loading weights") are switched off, and chatty libraries log warnings and worse
unless the level is DEBUG. The ingest's own progress bar (tqdm, on a terminal) and the evaluation's
are not affected.
"""

from __future__ import annotations

import logging
import os
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_HANDLER_NAME = "kronoberg"
# Libraries whose INFO messages are noise in a service log (model loading, HTTP requests, telemetry).
QUIET_LIBRARIES = ("transformers", "sentence_transformers", "huggingface_hub", "httpx", "httpcore", "urllib3",
                   "chromadb", "llama_index", "matplotlib", "PIL", "asyncio", "multipart", "filelock",
                   "gradio", "uvicorn")


def quiet_progress_bars() -> None:
    """No progress bars from transformers or huggingface_hub. Must run before they are imported to
    take effect through the environment; if they are already imported, they are told directly."""
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    if "transformers" in sys.modules:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
    if "huggingface_hub" in sys.modules:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()


def configure_logging(level: str = "INFO", stream=None) -> None:
    """Root logger at `level`, one handler on stderr; calling it again replaces that handler."""
    quiet_progress_bars()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    numeric = logging.getLevelName(level.upper())
    root.setLevel(numeric)
    library_level = numeric if numeric <= logging.DEBUG else max(numeric, logging.WARNING)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(library_level)
