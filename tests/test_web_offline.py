"""No side effects at import: importing assistant.web changes no environment variable; the entry point
(app.py) switches everything off before gradio is imported (assistant/offline.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from assistant.offline import OFFLINE_ENV
from assistant.settings import PROJECT_ROOT

MODULES = ("assistant.web", "assistant.web.filters", "assistant.web.loader", "assistant.web.middleware",
           "assistant.web.render", "assistant.web.retention", "assistant.web.sources")


def _run(code: str) -> dict:
    """Run `code` in a fresh interpreter without the offline variables; it prints one JSON line last."""
    env = {k: v for k, v in os.environ.items() if k not in OFFLINE_ENV}
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_the_web_package_changes_no_environment_variable():
    result = _run(f"""
import importlib, json, os, sys
before = dict(os.environ)
for name in {MODULES!r}:
    importlib.import_module(name)
changed = sorted(k for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k))
print(json.dumps({{"changed": changed, "gradio": "gradio" in sys.modules,
                  "web": os.path.dirname(sys.modules["assistant.web"].__file__)}}))
""")
    assert result == {"changed": [], "gradio": False, "web": str(PROJECT_ROOT / "assistant" / "web")}


def test_the_entry_point_goes_offline_before_gradio_is_imported():
    result = _run("""
import json, os, sys
import app
offline = {k: os.environ.get(k) for k in __import__("assistant.offline").offline.OFFLINE_ENV}
gradio_before = "gradio" in sys.modules
import assistant.web.app
print(json.dumps({"offline": offline, "gradio_before": gradio_before, "gradio_after": "gradio" in sys.modules}))
""")
    assert result == {"offline": OFFLINE_ENV, "gradio_before": False, "gradio_after": True}
