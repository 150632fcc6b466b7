"""A real headless Chromium (Debian's ``chromium`` package) driven over the DevTools protocol.

The browser starts once per test session on a loopback port with a fresh profile, and each
test opens its own tab (:class:`Tab`): navigate, read the DOM with JavaScript, type, click,
take screenshots, and collect console errors, uncaught exceptions and Content-Security-Policy
violations. The only client dependency is ``websocket-client`` (a test extra). Install the
browser with ``.ci/install-chromium.sh``; without it the tests skip (or fail under
``PROMOBOT_REQUIRE_SERVERS=1``).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.servers import free_port, unavailable

CHROMIUM = os.environ.get("PROMOBOT_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
]
TIMEOUT = 30.0
"""Seconds to wait for the browser to answer (a bound on a socket read, never a sleep)."""


@dataclass
class Browser:
    port: int
    process: subprocess.Popen[bytes]
    profile: Path

    def endpoint(self, path: str, method: str = "GET") -> Any:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method)
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # loopback only
            body = response.read()
        return json.loads(body) if body[:1] in (b"{", b"[") else body.decode()

    def new_tab(self) -> Tab:
        import websocket

        target = self.endpoint("/json/new?about:blank", method="PUT")
        sock = websocket.create_connection(
            target["webSocketDebuggerUrl"], timeout=TIMEOUT, suppress_origin=True
        )
        tab = Tab(self, target["id"], sock)
        for domain in ("Page", "Runtime", "Log", "Audits"):
            tab.send(f"{domain}.enable")
        return tab

    def close_tab(self, tab: Tab) -> None:
        tab.sock.close()
        self.endpoint(f"/json/close/{tab.target}")


@dataclass
class Tab:
    browser: Browser
    target: str
    sock: Any
    events: list[dict[str, Any]] = field(default_factory=list)
    _next: int = 0

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        self._next += 1
        ident = self._next
        self.sock.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.sock.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            self.events.append(message)

    def wait_for(self, event: str) -> dict[str, Any]:
        """The next ``event`` (those already received first); bounded by the socket's timeout."""
        for i, message in enumerate(self.events):
            if message.get("method") == event:
                return self.events.pop(i)
        while True:
            received: dict[str, Any] = json.loads(self.sock.recv())
            if received.get("method") == event:
                return received
            self.events.append(received)

    def viewport(self, width: int, height: int = 900) -> None:
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=width < 600,
        )

    def open(self, url: str, *, width: int = 1440) -> None:
        self.viewport(width)
        self.events = [e for e in self.events if e.get("method") != "Page.loadEventFired"]
        self.send("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def js(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    def type_into(self, selector: str, text: str) -> None:
        """Focus ``selector`` by clicking it, then type ``text`` as key events (input events fire)."""
        self.click(selector)
        for char in text:
            self.send("Input.dispatchKeyEvent", type="keyDown", text=char, key=char, unmodifiedText=char)
            self.send("Input.dispatchKeyEvent", type="keyUp", key=char)

    def click(self, selector: str) -> None:
        box = self.js(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        x, y = box
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def screenshot(self, path: Path, *, width: int) -> Path:
        """A full-page PNG at ``width`` CSS pixels."""
        self.viewport(width)
        height = int(self.js("Math.ceil(document.documentElement.scrollHeight)"))
        self.viewport(width, max(height, 200))
        data = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def drain(self) -> None:
        """Read what the browser already sent (a round trip makes sure it is all here)."""
        self.send("Runtime.evaluate", expression="0")

    def problems(self) -> list[str]:
        """Console errors, uncaught exceptions and CSP violations seen so far, as text."""
        self.drain()
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(f"console.{params['type']}: {params.get('args')}")
            elif method == "Runtime.exceptionThrown":
                found.append(f"exception: {params.get('exceptionDetails')}")
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in ("error", "warning"):
                entry = params["entry"]
                found.append(f"log {entry.get('level')} ({entry.get('source')}): {entry.get('text')}")
            elif method == "Audits.issueAdded":
                issue = params.get("issue", {})
                found.append(f"issue {issue.get('code')}: {issue.get('details')}")
        return found


def _wait_until_listening(port: int, process: subprocess.Popen[bytes]) -> bool:
    """Poll the DevTools endpoint until it answers; each try is bounded by a connect timeout."""
    import socket

    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            # the connect itself waits (bounded); a refused connect returns at once, so give
            # the browser a moment through a blocking wait on its own process
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=0.1)
    return False


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """A headless Chromium on a loopback DevTools port, for the whole session."""
    if not Path(CHROMIUM).is_file() or shutil.which(CHROMIUM) is None:
        unavailable(f"{CHROMIUM} is not installed — run .ci/install-chromium.sh")
    try:
        import websocket  # noqa: F401
    except ImportError:
        unavailable("the websocket-client package is missing — pip install -e '.[test]'")
    profile = Path(tempfile.mkdtemp(prefix="promobot-chromium-"))
    port = free_port()
    process = subprocess.Popen(
        [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--remote-debugging-port={port}",
            "--remote-debugging-address=127.0.0.1",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        if not _wait_until_listening(port, process):
            unavailable(f"{CHROMIUM} did not open its DevTools port")
        browser = Browser(port, process, profile)
        browser.endpoint("/json/version")
        yield browser
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def tab(chromium: Browser) -> Iterator[Tab]:
    opened = chromium.new_tab()
    try:
        yield opened
    finally:
        chromium.close_tab(opened)
