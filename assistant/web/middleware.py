"""What answers before Gradio: /healthz and /readyz, the refusal of remote files, the page's language,
and the login check Gradio calls.

Plain ASGI: nothing here imports gradio or starlette, so the rules can be read (and tested) alone.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote

from .. import prompts

log = logging.getLogger(__name__)

FAILED_LOGIN_DELAY_S = 0.5


def login_check(users: tuple[tuple[str, str], ...]):
    """Gradio's `auth`: checks a login against the users' scrypt hashes, off the event loop (a check takes
    about 0.1 s), and answers a failed attempt after a short pause. A failure is logged with the user
    name, never the password."""
    import anyio

    from ..passwords import Verifier

    verify = Verifier(users)

    async def check(username: str, password: str) -> bool:
        ok = await anyio.to_thread.run_sync(verify, username, password)
        if not ok:
            log.warning(prompts.LOGIN_FAILED_LOG, username[:100])
            await anyio.sleep(FAILED_LOGIN_DELAY_S)
        return ok

    return check


class ServiceRoutes:
    """ASGI middleware for what an operator's tools need, answered before Gradio (so without login):

    - `GET /healthz`: 200 {"status": "ok"} while the process serves;
    - `GET /readyz`: 200 {"status": "ready"} when the index is open and the models (the configured LLM
      too) are loaded, else 503 {"status": "not ready"};
    - HTML pages (the app and the login form) get `<html lang="sv">`.

    The answers carry nothing else: no version, mode, path or error."""

    HEALTH, READY = "/healthz", "/readyz"

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        path = _route_path(scope)
        if path in (self.HEALTH, self.READY):
            await self._probe(scope, send, path)
            return
        await self.app(scope, receive, _swedish_html(send))

    async def _probe(self, scope, send, path: str) -> None:
        method = scope.get("method", "GET")
        if method not in ("GET", "HEAD"):
            await _respond(send, 405, b'{"status": "method not allowed"}', method, [(b"allow", b"GET, HEAD")])
        elif path == self.HEALTH:
            await _respond(send, 200, b'{"status": "ok"}', method)
        elif _ready(scope):
            await _respond(send, 200, b'{"status": "ready"}', method)
        else:
            await _respond(send, 503, b'{"status": "not ready"}', method)


def _route_path(scope) -> str:
    path = unquote(scope.get("path") or "")
    root = scope.get("root_path") or ""
    if root and path.startswith(root):
        path = path[len(root):]
    return path.rstrip("/") or "/"


def _ready(scope) -> bool:
    try:
        loader = getattr(scope["app"].get_blocks(), "kb_loader", None)
    except Exception:  # not a Gradio app, or no Blocks yet
        return False
    return bool(loader is not None and loader.ready())


async def _respond(send, status: int, body: bytes, method: str, headers: list | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"cache-control", b"no-store"),
                            (b"content-length", str(len(body)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})


def _swedish_html(send):
    """Wrap `send` so that an HTML page's `<html lang="en"` (Gradio's template) becomes lang="sv"."""
    state: dict[str, Any] = {"start": None, "body": []}

    async def wrapped(message) -> None:
        if message["type"] == "http.response.start":
            headers = dict(message.get("headers") or [])
            if headers.get(b"content-type", b"").startswith(b"text/html") and b"content-encoding" not in headers:
                state["start"] = message
                return
        elif message["type"] == "http.response.body" and state["start"] is not None:
            state["body"].append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(state["body"])
            head, rest = body[:400], body[400:]
            body = re.sub(rb'(<html\b[^>]*?\blang=")en(")', rb"\1sv\2", head, count=1) + rest
            start = state["start"]
            headers = [(k, v) for k, v in start.get("headers") or [] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await send(message)

    return wrapped


class NoRemoteFiles:
    """ASGI middleware: refuse Gradio's file route when it names a URL.

    `/gradio_api/file=https://…` makes Gradio fetch the URL from the server and stream it back (it
    resolves the host name first). This app never serves remote files, and a request must not be able
    to make the server contact another machine, so such requests get 403 before Gradio sees them."""

    _FILE_ROUTES = ("/gradio_api/file=", "/gradio_api/file/", "/gradio_api/proxy=", "/file=", "/proxy=")

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope.get("type") == "http" and self._remote(scope):
            body = prompts.REMOTE_FILES_REFUSED.encode()
            await send({"type": "http.response.start", "status": 403,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)

    @classmethod
    def _remote(cls, scope) -> bool:
        path = unquote(scope.get("path") or "")
        root = scope.get("root_path") or ""
        if root and path.startswith(root):
            path = path[len(root):]
        for route in cls._FILE_ROUTES:
            if path.startswith(route):
                rest = unquote(path[len(route):]).strip().lower()
                return "://" in rest or rest.startswith(("//", "http:", "https:", "\\\\"))
        return False
