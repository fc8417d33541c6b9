"""A small WebDriver BiDi client for the studio's Firefox tests: Debian's ``firefox-esr`` started
headless with its own BiDi server (``--remote-debugging-port``), driven over one websocket.

Playwright cannot drive it: its Juggler Firefox is a download of its own (not reachable here) and
its BiDi channel (``channel="moz-firefox"``) needs commands Firefox ESR 153 lacks
(``emulation.setMediaFeaturesOverride``). Firefox speaks BiDi natively, so the tests speak it too:
navigate, evaluate, real pointer and key input, screenshots, and every request and script error
the page produced (``network.beforeRequestSent``, ``log.entryAdded``).
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import shutil
import subprocess
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

# Autoplay allowed (the test starts the player from script), a mock sound device (a container
# has none: sound would fail to play with OnMediaSinkAudioError), no first-run pages, no updates.
PREFS = {
    "media.autoplay.default": 0,
    "media.autoplay.blocking_policy": 0,
    "media.cubeb.force_mock_context": True,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "app.update.disabledForTesting": True,
    "browser.aboutwelcome.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
}
ENTER = "\ue007"
CONTROL = "\ue009"
BACKSPACE = "\ue003"


def firefox_binary() -> str | None:
    for name in ("firefox-esr", "firefox"):
        found = shutil.which(name)
        if found:
            return found
    return None


class BidiError(RuntimeError):
    pass


_SETTLED = (
    "s => new Promise(done => { const e = document.querySelector(s);"
    " e.scrollIntoView({ block: 'center' }); const top = e.getBoundingClientRect().top;"
    " requestAnimationFrame(() => requestAnimationFrame(() => {"
    " const box = e.getBoundingClientRect();"
    " done(box.top === top && box.top >= 0 && box.bottom <= innerHeight); })); })"
)


class Firefox:
    """One headless Firefox and its BiDi session; ``tab`` is its one browsing context."""

    def __init__(self, binary: str, timeout: float = 20.0) -> None:
        from websockets.sync.client import connect

        self.timeout = timeout
        self.profile = Path(tempfile.mkdtemp(prefix="reelforge-firefox-"))
        (self.profile / "user.js").write_text(
            "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in PREFS.items())
        )
        self.process = subprocess.Popen(
            [binary, "--headless", "--no-remote", "--remote-debugging-port=0"]
            + ["--profile", str(self.profile)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        endpoint = self._endpoint()
        self._closing = ExitStack()
        self.socket = self._closing.enter_context(
            connect(endpoint + "/session", max_size=None, open_timeout=timeout)
        )
        self._ids = itertools.count(1)
        self.requests: list[str] = []
        self.errors: list[str] = []
        # A page's confirm() ("Delete job ...?") is answered yes, as the tests' user would.
        accept = {"unhandledPromptBehavior": {"default": "accept"}}
        self.send("session.new", {"capabilities": {"alwaysMatch": accept}})
        self.send("session.subscribe", {"events": ["log.entryAdded", "network.beforeRequestSent"]})
        contexts = self.send("browsingContext.getTree", {"maxDepth": 0})["contexts"]
        self.context: str = contexts[0]["context"]

    def _endpoint(self) -> str:
        assert self.process.stderr is not None
        lines = []
        for line in self.process.stderr:
            lines.append(line)
            found = re.search(r"WebDriver BiDi listening on (ws://\S+)", line)
            if found:
                return found.group(1)
        raise BidiError("firefox exited before its BiDi server listened:\n" + "".join(lines))

    def send(self, method: str, params: dict[str, Any]) -> Any:
        number = next(self._ids)
        self.socket.send(json.dumps({"id": number, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=self.timeout * 3))
            if message.get("id") == number:
                if message.get("type") == "error":
                    raise BidiError(f"{method}: {message['error']}: {message['message']}")
                return message["result"]
            if message.get("type") == "event":
                self._event(message["method"], message["params"])

    def _event(self, method: str, params: dict[str, Any]) -> None:
        if method == "network.beforeRequestSent":
            self.requests.append(params["request"]["url"])
        elif method == "log.entryAdded" and params.get("level") == "error":
            self.errors.append(f"{params.get('type')}: {params.get('text')}")

    def close(self) -> None:
        try:
            self.send("browser.close", {})
            self._closing.close()
            self.process.wait(timeout=10)
        except Exception:  # noqa: BLE001 - a browser that will not close is killed
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process.stderr:
            self.process.stderr.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    # --------------------------------------------------------------------- the page
    def viewport(self, width: int, height: int) -> None:
        self.send(
            "browsingContext.setViewport",
            {"context": self.context, "viewport": {"width": width, "height": height}},
        )

    def goto(self, url: str) -> None:
        self.send(
            "browsingContext.navigate", {"context": self.context, "url": url, "wait": "complete"}
        )

    def reload(self) -> None:
        self.send("browsingContext.reload", {"context": self.context, "wait": "complete"})

    def call(self, function: str, *args: Any) -> Any:
        """Run ``function`` (JavaScript source) in the page with JSON arguments; its result as
        Python (promises awaited; elements come back as BiDi references)."""
        result = self.send(
            "script.callFunction",
            {
                "functionDeclaration": function,
                "arguments": [_serialize(arg) for arg in args],
                "target": {"context": self.context},
                "awaitPromise": True,
                "userActivation": True,
            },
        )
        if result["type"] == "exception":
            details = result["exceptionDetails"]
            raise BidiError(f"{details['text']}\n{function}")
        return _deserialize(result["result"])

    def wait(self, function: str, *args: Any, timeout: float | None = None) -> Any:
        """Call ``function`` until it returns something truthy; that value."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            value = self.call(function, *args)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {function} {args}")
            time.sleep(0.05)

    def visible(self, selector: str, timeout: float | None = None) -> None:
        self.wait(
            "s => { const e = document.querySelector(s); return !!e && !e.closest('[hidden]')"
            " && e.getClientRects().length > 0; }",
            selector,
            timeout=timeout,
        )

    def choose(self, selector: str, value: str) -> None:
        """Pick ``value`` in a select (its list is the platform's own widget: set, then told)."""
        self.call(
            "(s, v) => { const e = document.querySelector(s); e.value = v;"
            " e.dispatchEvent(new Event('change', { bubbles: true })); }",
            selector,
            value,
        )

    def text(self, selector: str) -> str:
        return str(self.call("s => document.querySelector(s)?.textContent ?? ''", selector))

    def _element(self, selector: str) -> dict[str, Any]:
        self.visible(selector)
        # Scrolled to the centre and still there two frames later: a page that re-lays itself
        # out as it reacts to typing (scene preview, price) must not move it under the pointer.
        self.wait(_SETTLED, selector)
        result = self.send(
            "script.callFunction",
            {
                "functionDeclaration": "s => { const e = document.querySelector(s);"
                " e.scrollIntoView({ block: 'center' }); return e; }",
                "arguments": [_serialize(selector)],
                "target": {"context": self.context},
                "awaitPromise": True,
            },
        )
        return {"sharedId": result["result"]["sharedId"]}

    def click(self, selector: str) -> None:
        """A real mouse click at the element's centre (scrolled into view first)."""
        origin = {"type": "element", "element": self._element(selector)}
        self._actions(
            {
                "type": "pointer",
                "id": "mouse",
                "parameters": {"pointerType": "mouse"},
                "actions": [
                    {"type": "pointerMove", "x": 0, "y": 0, "origin": origin},
                    {"type": "pointerDown", "button": 0},
                    {"type": "pointerUp", "button": 0},
                ],
            }
        )

    def fill(self, selector: str, text: str) -> None:
        """Focus the field, select what it holds and type ``text`` key by key (Enter for new
        lines), as a person would; empty text clears the field."""
        self.call("s => document.querySelector(s).focus()", selector)
        keys: list[dict[str, str]] = [
            {"type": "keyDown", "value": CONTROL},
            {"type": "keyDown", "value": "a"},
            {"type": "keyUp", "value": "a"},
            {"type": "keyUp", "value": CONTROL},
        ]
        for character in text or BACKSPACE:
            value = ENTER if character == "\n" else character
            keys += [{"type": "keyDown", "value": value}, {"type": "keyUp", "value": value}]
        self.keys(keys)

    def press(self, *values: str) -> None:
        self.keys([{"type": kind, "value": v} for v in values for kind in ("keyDown", "keyUp")])

    def keys(self, actions: list[dict[str, str]]) -> None:
        self._actions({"type": "key", "id": "keyboard", "actions": actions})

    def _actions(self, source: dict[str, Any]) -> None:
        self.send("input.performActions", {"context": self.context, "actions": [source]})
        self.send("input.releaseActions", {"context": self.context})

    def screenshot(self, path: Path) -> None:
        """The whole page (not only the window) as a PNG."""
        shot = self.send(
            "browsingContext.captureScreenshot", {"context": self.context, "origin": "document"}
        )
        path.write_bytes(base64.b64decode(shot["data"]))


def _serialize(value: Any) -> dict[str, Any]:
    if value is None:
        return {"type": "null"}
    if isinstance(value, bool):
        return {"type": "boolean", "value": value}
    if isinstance(value, int | float):
        return {"type": "number", "value": value}
    if isinstance(value, str):
        return {"type": "string", "value": value}
    raise TypeError(f"cannot pass {type(value).__name__} to the page")


def _deserialize(remote: dict[str, Any]) -> Any:
    kind = remote["type"]
    if kind in ("undefined", "null"):
        return None
    if kind in ("string", "boolean"):
        return remote["value"]
    if kind == "number":
        value = remote["value"]
        return float("nan") if value == "NaN" else value
    if kind == "array":
        return [_deserialize(item) for item in remote.get("value", [])]
    if kind == "object":
        return {key: _deserialize(item) for key, item in remote.get("value", [])}
    return remote  # nodes, windows, ...: the reference itself
