"""``nnstep serve``: the protocol over a websocket (aiohttp + pyte), the refusals,
no orphaned app processes, and the real thing in headless Chromium (Selenium)."""

from __future__ import annotations

import asyncio
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

pytest.importorskip("textual_serve", reason="nnstep serve needs the web extra: pip install -e '.[web]'")
aiohttp = pytest.importorskip("aiohttp")
pyte = pytest.importorskip("pyte")

from nnstep.debugger import Debugger  # noqa: E402

WIDTH, HEIGHT = 130, 40
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@dataclass
class Served:
    proc: subprocess.Popen
    url: str
    port: int
    token: str

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/{self.token}?width={WIDTH}&height={HEIGHT}"


def start(*args: str) -> Served:
    proc = subprocess.Popen([sys.executable, "-m", "nnstep.cli", "serve", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ready, _, _ = select.select([proc.stdout], [], [], 30)
    assert ready, "nnstep serve printed nothing in 30 s"
    url = proc.stdout.readline().strip()
    parts = urlsplit(url)
    assert parts.scheme == "http" and parts.hostname == "127.0.0.1" and parts.path == "/", url
    token = parse_qs(parts.query)["token"][0]
    assert len(token) >= 24
    return Served(proc, url, parts.port, token)


def stop(served: Served) -> None:
    if served.proc.poll() is None:
        served.proc.kill()
    served.proc.wait(10)


@pytest.fixture
def served():
    s = start()
    yield s
    stop(s)


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found |= {int(p) for p in task.read_text().split()}
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def wait_until(test, timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if test():
            return True
        time.sleep(0.05)
    return test()


def get(url: str, **headers: str) -> tuple[int, str, dict]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


class Screen:
    """An app's websocket output rendered by pyte, as a browser's xterm would."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.screen = pyte.Screen(WIDTH, HEIGHT)
        self.stream = pyte.ByteStream(self.screen)

    @property
    def text(self) -> str:
        return "\n".join(self.screen.display)

    async def until(self, pattern: str, timeout: float = 20.0) -> str:
        end = asyncio.get_running_loop().time() + timeout
        while not re.search(pattern, self.text):
            left = end - asyncio.get_running_loop().time()
            assert left > 0, f"no {pattern!r} on the screen:\n{self.text}"
            try:
                msg = await asyncio.wait_for(self.ws.receive(), left)
            except TimeoutError:
                continue
            if msg.type == aiohttp.WSMsgType.BINARY:
                self.stream.feed(msg.data)
            elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                raise AssertionError(f"websocket closed; screen:\n{self.text}")
        return self.text

    async def key(self, key: str) -> None:
        await self.ws.send_json(["stdin", key])


def expected_after_n3_p1() -> tuple[str, str]:
    """The status's 'op k/K' and the current op's code line after n n n p, from the engine."""
    dbg = Debugger("note-network")
    dbg.step(3)
    dbg.back(1)
    return f"op {dbg.op_index + 1}/{dbg.op_count}", dbg.current_op.code  # ops count from 1


def test_websocket_protocol_steps_the_debugger(served):
    status, code = expected_after_n3_p1()
    assert status == "op 2/40"

    async def go() -> None:
        async with aiohttp.ClientSession() as http, http.ws_connect(served.ws) as ws:
            screen = Screen(ws)
            first = await screen.until(r"epoch 1/1000")  # the first frame: the status bar
            assert "op 0/40" in first and "Program" in first
            pids = children(served.proc.pid)
            assert len(pids) == 1  # one app process for this connection
            for _ in range(3):
                await screen.key("n")
            await screen.until(r"op 3/40")
            await screen.key("p")
            text = await screen.until(re.escape(status))
            current = [line for line in text.splitlines() if "▶" in line]
            assert current and code in current[0], text
            (pid,) = pids
        # the connection ended: so does its app
        assert wait_until(lambda: not alive(pid), 10)

    asyncio.run(go())


def test_refusals_and_the_offline_page(served):
    base = f"http://127.0.0.1:{served.port}"
    status, page, headers = get(served.url)
    assert status == 200
    assert "<title>nnstep</title>" in page
    # no external resources: every src/href is on this server, under the token
    refs = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert refs and all(r.startswith((f"/static/{served.token}/", f"/?token={served.token}")) for r in refs), refs
    assert "googleapis" not in page and "https://" not in page
    assert f"ws://127.0.0.1:{served.port}/ws/{served.token}" in page
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert get(f"{base}/static/{served.token}/js/textual.js")[0] == 200

    assert get(f"{base}/")[0] == 403  # no token
    assert get(f"{base}/?token=wrong")[0] == 403
    assert get(f"{base}/static/wrong/js/textual.js")[0] == 403
    assert get(f"{base}/static/js/textual.js")[0] == 403
    assert get(served.url, Host="evil.example")[0] == 403  # DNS rebinding
    assert get(served.url, Host=f"evil.example:{served.port}")[0] == 403
    assert get(served.url, Host=f"localhost:{served.port}")[0] == 200

    async def ws_status(url: str, **headers: str) -> int:
        async with aiohttp.ClientSession() as http:
            try:
                async with http.ws_connect(url, headers=headers) as ws:
                    await ws.close()
                    return 101
            except aiohttp.WSServerHandshakeError as e:
                return e.status

    assert asyncio.run(ws_status(served.ws, Origin="http://evil.example")) == 403
    assert asyncio.run(ws_status(served.ws, Origin=f"http://127.0.0.1:{served.port}.evil.example")) == 403
    assert asyncio.run(ws_status(f"ws://127.0.0.1:{served.port}/ws/wrong")) == 403
    assert asyncio.run(ws_status(f"ws://127.0.0.1:{served.port}/ws")) == 403
    assert not children(served.proc.pid)  # none of these started an app


def test_sessions_are_limited():
    served = start("--sessions", "1")
    try:
        async def go() -> str:
            async with aiohttp.ClientSession() as http, http.ws_connect(served.ws) as first:
                await Screen(first).until(r"epoch 1/1000")
                async with http.ws_connect(served.ws) as second:
                    return await Screen(second).until(r"sessions are in use")

        text = asyncio.run(go())
        assert "all 1 sessions are in use" in text
    finally:
        stop(served)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_no_app_outlives_the_server(sig):
    served = start()
    try:
        async def go() -> None:
            async with aiohttp.ClientSession() as http, http.ws_connect(served.ws) as ws:
                await Screen(ws).until(r"epoch 1/1000")
                pids = children(served.proc.pid)
                assert len(pids) == 1
                os.kill(served.proc.pid, sig)
                served.proc.wait(10)
                (pid,) = pids
                assert wait_until(lambda: not alive(pid), 10), f"app {pid} outlived the server ({sig.name})"

        asyncio.run(go())
        if sig == signal.SIGTERM:
            assert served.proc.returncode == 0
    finally:
        stop(served)


def test_child_environment_and_open_roots(tmp_path):
    from nnstep.scenario import scenario_dir
    from nnstep.serve.server import Target, resolve_target

    mine = tmp_path / "mine.toml"
    mine.write_text((scenario_dir() / "one-neuron.toml").read_text())
    target = resolve_target(str(mine))
    assert target.scenario == mine.resolve()
    assert target.roots == [scenario_dir().resolve(), tmp_path.resolve()]
    assert target.argv() == [sys.executable, "-P", "-m", "nnstep.tui", str(mine.resolve())]
    os.environ["NNSTEP_TEST_SECRET"] = "x"
    try:
        env = Target(target.scenario, target.roots).environment(80, 24)
    finally:
        del os.environ["NNSTEP_TEST_SECRET"]
    assert "NNSTEP_TEST_SECRET" not in env and "HOME" not in env
    assert env["NNSTEP_SERVE_PARENT"] == str(os.getpid())

    from nnstep.serve import child

    env_roots = os.pathsep.join(str(r) for r in target.roots)
    old = os.environ.get(child.ROOTS_VAR)
    os.environ[child.ROOTS_VAR] = env_roots
    try:
        assert child.open_refusal(str(mine)) is None
        assert child.open_refusal("xor") is None  # bundled
        outside = Path(tempfile.mkdtemp()) / "x.toml"
        assert "opens only" in child.open_refusal(str(outside))
        assert child.open_refusal(str(tmp_path / ".." / "x.toml")) is not None
        link = tmp_path / "link.toml"
        link.symlink_to(outside)
        assert child.open_refusal(str(link)) is not None  # symlinks are followed
    finally:
        if old is None:
            del os.environ[child.ROOTS_VAR]
        else:
            os.environ[child.ROOTS_VAR] = old


def test_bad_scenario_and_flags_are_one_line_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    note = Path(__file__).resolve().parent.parent / "scenarios" / "note-network.toml"
    bad.write_text(note.read_text().replace('"sigmoid"', '"sigmoud"', 1))  # one problem: one line
    for args in (["serve", str(bad)], ["serve", "--port", "70000"], ["serve", "--sessions", "0"]):
        r = subprocess.run([sys.executable, "-m", "nnstep.cli", *args], capture_output=True, text=True, timeout=60)
        assert r.returncode == 2 and r.stdout == ""
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "nnstep.cli", "serve", "--port", str(port)], capture_output=True,
                           text=True, timeout=60)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == f"--port: cannot listen on 127.0.0.1:{port}: the port is in use (try another --port, or 0 for any free port)\n"


def test_without_the_web_extra_says_how_to_install_it(tmp_path):
    # a textual_serve that cannot be imported, first on the path
    (tmp_path / "textual_serve").mkdir()
    (tmp_path / "textual_serve" / "__init__.py").write_text("raise ImportError('not installed')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    r = subprocess.run([sys.executable, "-m", "nnstep.cli", "serve"], capture_output=True, text=True,
                       timeout=60, env=env)
    assert r.returncode == 2
    assert r.stderr.strip() == 'nnstep serve needs the web extra: pip install "nnstep[web]"'


# ----------------------------------------------------------------- a real browser
# Makes the page's xterm Terminal reachable from the test: the page's script does
# `this.terminal = new Terminal(...)`; an inherited setter records that object.
CAPTURE = """
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  set(value) {
    Object.defineProperty(this, "terminal", {value, writable: true, configurable: true, enumerable: true});
    if (value && value.buffer && !window.__term) { window.__term = value; }
  },
});
"""
SCREEN_TEXT = """
const t = window.__term; if (!t) return "";
const b = t.buffer.active, rows = [];
for (let i = 0; i < t.rows; i++) { const l = b.getLine(b.viewportY + i); rows.push(l ? l.translateToString(true) : ""); }
return rows.join("\\n");
"""


@pytest.mark.skipif(not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)),
                    reason=f"Chromium not installed ({CHROMIUM}, {CHROMEDRIVER}): apt-get install chromium chromium-driver")
def test_in_headless_chromium(served, tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    status, code = expected_after_n3_p1()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CAPTURE})
        driver.get(served.url)
        assert driver.title == "nnstep"

        def screen() -> str:
            return driver.execute_script(SCREEN_TEXT) or ""

        assert wait_until(lambda: "epoch 1/1000" in screen()), screen()
        assert "op 0/40" in screen()
        driver.find_element(By.CSS_SELECTOR, ".xterm-helper-textarea").send_keys("nnn")
        assert wait_until(lambda: "op 3/40" in screen()), screen()
        driver.find_element(By.CSS_SELECTOR, ".xterm-helper-textarea").send_keys("p")
        assert wait_until(lambda: status in screen()), screen()
        current = [line for line in screen().splitlines() if "▶" in line]
        assert current and code in current[0], screen()
        shot = tmp_path / "serve.png"
        assert driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000  # a drawn screen, not a blank page
        if keep := os.environ.get("NNSTEP_SCREENSHOT"):
            shutil.copy(shot, keep)
        logs = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert all(u.startswith(f"http://127.0.0.1:{served.port}/") or u.startswith("ws://") for u in logs), logs
    finally:
        driver.quit()


def test_open_dialog_in_a_served_session_stays_in_its_folders(tmp_path, monkeypatch):
    """`o` in a served app (NNSTEP_OPEN_ROOTS set): the served folder and the bundled
    scenarios open; a file elsewhere (existing!) is refused in the dialog; no completion
    lists folders outside."""
    from nnstep.scenario import scenario_dir
    from nnstep.serve.child import ROOTS_VAR
    from nnstep.tui import NNStepApp
    from nnstep.tui.screens.open import OpenScreen, PathSuggester
    from nnstep.tui.testing import settle

    served_dir, elsewhere = tmp_path / "class", tmp_path / "private"
    served_dir.mkdir()
    elsewhere.mkdir()
    source = (scenario_dir() / "one-neuron.toml").read_text()
    (served_dir / "lesson.toml").write_text(source)
    (served_dir / "next.toml").write_text(source.replace("learning_rate", "learning_rate = 0.5 #", 1))
    (elsewhere / "secret.toml").write_text(source)
    monkeypatch.setenv(ROOTS_VAR, os.pathsep.join([str(scenario_dir()), str(served_dir)]))

    async def go() -> None:
        app = NNStepApp(str(served_dir / "lesson.toml"))
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(app, pilot)
            await pilot.press("o")
            await pilot.pause()
            assert isinstance(app.screen, OpenScreen)
            path = app.screen.query_one("#open-path")
            suggester = PathSuggester()
            assert await suggester.get_suggestion(str(elsewhere) + "/se") is None
            assert await suggester.get_suggestion(str(served_dir) + "/ne") == str(served_dir / "next.toml")
            for refused in (elsewhere / "secret.toml", served_dir / ".." / "private" / "secret.toml"):
                path.value = str(refused)
                path.focus()
                await pilot.press("enter")
                await pilot.pause()
                assert isinstance(app.screen, OpenScreen)
                assert "opens only the bundled scenarios and files in" in app.screen.query_one("#open-error").content.plain
            path.value = str(served_dir / "next.toml")
            await pilot.press("enter")
            await pilot.pause()
            assert not isinstance(app.screen, OpenScreen)
            assert app.dbg.scenario.learning_rate == 0.5

    asyncio.run(go())


def test_other_addresses_need_host_and_warn():
    proc = subprocess.Popen([sys.executable, "-m", "nnstep.cli", "serve", "--host", "0.0.0.0", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert select.select([proc.stdout], [], [], 30)[0]
        url = urlsplit(proc.stdout.readline().strip())
        warning = proc.stderr.readline()
        assert warning.startswith("nnstep serve: warning: listening on 0.0.0.0"), warning
        token = parse_qs(url.query)["token"][0]
        local = f"http://127.0.0.1:{url.port}/?token={token}"
        assert get(local)[0] == 200
        assert get(local, Host=f"evil.example:{url.port}")[0] == 403
        assert get(f"http://127.0.0.1:{url.port}/")[0] == 403
    finally:
        proc.kill()
        proc.wait(10)


def test_app_stderr_reaches_the_terminal_with_control_characters_escaped():
    from nnstep.serve.server import _copy_visible

    async def go() -> bytes:
        source, sink = asyncio.StreamReader(), asyncio.StreamReader()
        source.feed_data(b"line\x1b]0;pwned\x07 one\n")
        source.feed_data("two \u202e\n".encode())
        source.feed_eof()
        await _copy_visible(source, sink)
        return await sink.read()

    assert asyncio.run(go()).decode() == "line\\x1b]0;pwned\\x07 one\ntwo \\u202e\n"
