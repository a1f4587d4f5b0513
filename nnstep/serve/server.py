"""The aiohttp side of ``nnstep serve``, on textual-serve's ``Server`` and ``AppService``.

What textual-serve does as is: the page's xterm.js, the websocket protocol, the
packet stream to and from each app process. What is replaced here, and why:

- every request needs the access token (the page ``/?token=T``; the websocket
  ``/ws/T`` and the static files ``/static/T/…`` carry it in their path, because
  the page's script appends ``?width=…`` to the websocket URL), compared in
  constant time; a Host other than the address served, or an Origin other than
  the page's own, is refused too (403);
- at most ``sessions`` app processes; width and height clamped; websocket
  messages limited in size and parsed defensively;
- the app runs as an argument list built here (``sys.executable -P -m nnstep.tui
  SCENARIO``, no shell) in a reduced environment, in the served file's folder;
- it ends when its websocket closes (asked to quit, killed after a grace
  period), when the server stops, and when the server dies by SIGKILL
  (:func:`nnstep.serve.child.guard` in the child);
- the page is nnstep's own template: no CDN font, no download route.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import errno
import hmac
import ipaddress
import json
import logging
import os
import secrets
import signal
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import WSMsgType, web
from textual_serve.app_service import AppService
from textual_serve.server import Server

import nnstep
from nnstep.text import visible

from . import ServeError
from .child import PARENT_VAR, ROOTS_VAR

log = logging.getLogger("nnstep.serve")

TEMPLATES = Path(__file__).with_name("templates")
MAX_SESSIONS = 64
WIDTH = (20, 500)
HEIGHT = (8, 200)
FONT_SIZE = (8, 40)
MAX_MESSAGE = 64 * 1024
STOP_GRACE = 3.0
#: Environment variables the app keeps from the server's (locale, temp folder, PATH).
KEEP_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "SYSTEMROOT")
WILDCARD = {"0.0.0.0", "::", ""}


def clamp(text: object, bounds: tuple[int, int], default: int) -> int:
    """A whole number from a request, forced into *bounds*; *default* when not a number."""
    try:
        value = int(str(text))
    except ValueError:
        value = default
    return max(bounds[0], min(bounds[1], value))


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def allowed_hosts(host: str, port: int) -> set[str]:
    """The Host headers accepted: the address served (and ``localhost`` for loopback)."""
    names = {host}
    if is_loopback(host):
        names |= {"localhost", "127.0.0.1", "::1"}
    if host in WILDCARD:
        hostname = socket.gethostname()
        names |= {hostname, socket.getfqdn(), "localhost", "127.0.0.1", "::1"}
        with contextlib.suppress(OSError):
            names |= {info[4][0] for info in socket.getaddrinfo(hostname, None)}
    return {_netloc(n, port).lower() for n in names if n}


@dataclass
class Target:
    """What every session runs: the validated scenario and the folders ``o`` may open."""

    scenario: Path
    roots: list[Path] = field(default_factory=list)

    def argv(self) -> list[str]:
        # -P: the working folder (the served file's) is not put on sys.path.
        return [sys.executable, "-P", "-m", "nnstep.tui", str(self.scenario)]

    def environment(self, width: int, height: int) -> dict[str, str]:
        env = {k: os.environ[k] for k in KEEP_ENV if k in os.environ}
        env.update({
            "PYTHONPATH": str(Path(nnstep.__file__).resolve().parent.parent),  # this nnstep, not another
            "PYTHONIOENCODING": "utf-8",
            "TEXTUAL_DRIVER": "textual.drivers.web_driver:WebDriver",
            "TEXTUAL_FPS": "60",
            "TEXTUAL_COLOR_SYSTEM": "truecolor",
            "TERM_PROGRAM": "textual",
            "COLUMNS": str(width),
            "ROWS": str(height),
            PARENT_VAR: str(os.getpid()),
            ROOTS_VAR: os.pathsep.join(str(r) for r in self.roots),
        })
        return env


async def _copy_visible(source: asyncio.StreamReader, sink: asyncio.StreamReader) -> None:
    """Copy *source* to *sink*, with every control character made visible except newlines."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    try:
        while chunk := await source.read(4096):
            text = decoder.decode(chunk)
            sink.feed_data("\n".join(visible(part) for part in text.split("\n")).encode())
    finally:
        sink.feed_eof()


class Session(AppService):
    """One app process, started from :class:`Target` (never from request input)."""

    def __init__(self, target: Target, **kwargs: Any) -> None:
        super().__init__(" ".join(target.argv()), **kwargs)
        self.target = target

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        return self.target.environment(width, height)

    async def _open_app_process(self, width: int = 80, height: int = 24) -> asyncio.subprocess.Process:
        self._process = process = await asyncio.create_subprocess_exec(
            *self.target.argv(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._build_environment(width, height),
            cwd=str(self.target.scenario.parent),
            start_new_session=True,  # a Ctrl+C in the teacher's terminal reaches the server only
        )
        assert process.stdin is not None and process.stderr is not None
        self._stdin = process.stdin
        # textual-serve copies the app's stderr to this terminal: escape control characters first
        process.stderr, raw = asyncio.StreamReader(), process.stderr
        self._stderr_task = asyncio.create_task(_copy_visible(raw, process.stderr))
        return process

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def stop(self) -> None:
        """Ask the app to quit; kill it if it has not within :data:`STOP_GRACE` seconds."""
        try:
            await asyncio.wait_for(super().stop(), STOP_GRACE)
        except (TimeoutError, asyncio.CancelledError):
            pass
        finally:
            process = self._process
            if process is not None and process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(process.wait(), STOP_GRACE)


class NNStepServer(Server):
    """textual-serve's server with nnstep's checks, limits, command and page."""

    def __init__(self, target: Target, *, host: str, port: int, sessions: int, token: str | None = None) -> None:
        super().__init__(" ".join(target.argv()), host=host, port=port, title="nnstep",
                         templates_path=TEMPLATES)
        self.target = target
        self.max_sessions = sessions
        self.token = token or secrets.token_urlsafe(24)
        self.sessions: set[Session] = set()
        self.hosts: set[str] = set()

    # ------------------------------------------------------------- addresses
    def bound(self, port: int) -> None:
        """Record the port actually bound (``--port 0`` picks a free one)."""
        self.port = port
        self.hosts = allowed_hosts(self.host, port)
        shown = self.host
        if shown in WILDCARD:
            shown = socket.gethostname()
        self.public_url = f"http://{_netloc(shown, port)}"

    @property
    def url(self) -> str:
        return f"{self.public_url}/?token={self.token}"

    # ------------------------------------------------------------- the app
    async def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self.guard], client_max_size=MAX_MESSAGE)
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path), autoescape=True)
        app.add_routes([
            web.get("/", self.handle_index, name="index"),
            web.get(f"/ws/{self.token}", self.handle_websocket, name="websocket"),
            web.static(f"/static/{self.token}", self.statics_path, name="static"),
        ])
        app.on_shutdown.append(self.on_shutdown)
        return app

    def _token_of(self, request: web.Request) -> str:
        if request.path == "/":
            return request.query.get("token", "")
        parts = request.path.split("/")
        return parts[2] if len(parts) > 2 and parts[1] in ("ws", "static") else ""

    @web.middleware
    async def guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        host = request.headers.get("Host", "").lower()
        if host not in self.hosts:
            return web.Response(status=403, text="nnstep serve: this address is not the one served\n")
        origin = request.headers.get("Origin")
        if origin is not None and origin.lower() != f"http://{host}":
            return web.Response(status=403, text="nnstep serve: requests from other sites are refused\n")
        if not hmac.compare_digest(self._token_of(request).encode(), self.token.encode()):
            return web.Response(status=403, text="nnstep serve: open the URL printed by 'nnstep serve', "
                                                 "with its token\n")
        response = await handler(request)
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        static = request.app.router["static"].url_for(filename="/").path.rstrip("/") + "/"
        context = {
            "title": "nnstep",
            "font_size": clamp(request.query.get("fontsize", "16"), FONT_SIZE, 16),
            "static_url": static,
            "websocket_url": f"ws://{request.headers['Host']}/ws/{self.token}",
            "restart_url": f"/?token={self.token}",
        }
        response = aiohttp_jinja2.render_template("nnstep.html", request, context)
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; font-src 'self'; "
            "img-src 'self' data:; connect-src 'self' ws://" + request.headers["Host"] + "; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
        return response

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse(heartbeat=15, max_msg_size=MAX_MESSAGE)
        await websocket.prepare(request)
        if len(self.sessions) >= self.max_sessions:
            await websocket.send_bytes(
                f"\r\nnnstep serve: all {self.max_sessions} sessions are in use; close one and "
                f"reload this page.\r\n".encode())
            await websocket.close()
            return websocket
        width = clamp(request.query.get("width", "80"), WIDTH, 80)
        height = clamp(request.query.get("height", "24"), HEIGHT, 24)
        session = Session(self.target, write_bytes=websocket.send_bytes, write_str=websocket.send_str,
                          close=websocket.close, download_manager=self.download_manager)
        self.sessions.add(session)
        try:
            await session.start(width, height)
            await self._process_messages(websocket, session)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception:  # a broken connection or app: logged, the session ends
            log.exception("session ended by an error")
        finally:
            await session.stop()
            self.sessions.discard(session)
        return websocket

    async def _process_messages(self, websocket: web.WebSocketResponse, app_service: AppService) -> None:
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                envelope = json.loads(message.data)
                kind = envelope[0]
                data = envelope[1] if len(envelope) > 1 else None
            except (ValueError, TypeError, IndexError, KeyError):
                continue
            if kind == "stdin" and isinstance(data, str):
                await app_service.send_bytes(data.encode("utf-8"))
            elif kind == "resize" and isinstance(data, dict):
                await app_service.set_terminal_size(clamp(data.get("width"), WIDTH, 80),
                                                    clamp(data.get("height"), HEIGHT, 24))
            elif kind == "ping" and isinstance(data, str):
                await websocket.send_json(["pong", data[:32]])
            elif kind == "blur":
                await app_service.blur()
            elif kind == "focus":
                await app_service.focus()

    async def on_shutdown(self, app: web.Application) -> None:
        await asyncio.gather(*(s.stop() for s in list(self.sessions)), return_exceptions=True)

    # ------------------------------------------------------------- running
    async def main(self, ready: Any = None) -> None:
        runner = web.AppRunner(await self._make_app(), handle_signals=False, shutdown_timeout=STOP_GRACE)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host or None, self.port)
            try:
                await site.start()
            except OSError as exc:
                why = ("the port is in use (try another --port, or 0 for any free port)"
                       if exc.errno == errno.EADDRINUSE else str(exc.strerror or exc))
                raise ServeError(f"cannot listen on {_netloc(self.host, self.port)}: {why}", key="--port") from None
            self.bound(runner.addresses[0][1])
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            if ready is not None:
                ready(self)
            await stop.wait()
        finally:
            await runner.cleanup()


def resolve_target(scenario: str | None) -> Target:
    """Load and build the scenario once here, so that a bad file is a one-line error before serving."""
    from nnstep.build import build_program
    from nnstep.scenario import load_scenario, resolve, scenario_dir

    build_program(load_scenario(scenario))
    path = resolve(scenario).resolve()
    roots = [scenario_dir().resolve()]
    if path.parent not in roots:
        roots.append(path.parent)
    return Target(path, roots)


def run(scenario: str | None, *, host: str, port: int, sessions: int) -> int:
    target = resolve_target(scenario)
    server = NNStepServer(target, host=host, port=port, sessions=sessions)
    logging.basicConfig(level=logging.WARNING, format="nnstep serve: %(message)s")

    def ready(srv: NNStepServer) -> None:
        print(srv.url, flush=True)
        if not is_loopback(host):
            print(f"nnstep serve: warning: listening on {host}, not only this computer: anyone who can reach "
                  f"this address and has the URL can use the debugger", file=sys.stderr, flush=True)
        print(f"nnstep serve: {visible(str(target.scenario))}, up to {sessions} sessions at once; Ctrl+C stops",
              file=sys.stderr, flush=True)

    asyncio.run(server.main(ready))
    return 0
