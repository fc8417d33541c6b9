"""Helpers for the studio's browser tests (fixtures in conftest.py): real ``reelforge serve``
processes on free loopback ports and Debian's chromium driven by Playwright (its own browser
download is never used).

Without chromium or Playwright the browser tests are skipped with the reason, except under
``CI=true``, where they fail (``scripts/setup.sh`` installs both), like the other server tests.
Every request a page makes is recorded; a test fails if any went to another host.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from servers import LOOPBACK, free_port, stop_process

REPO = Path(__file__).resolve().parents[2]
# Screenshots go to a temporary folder, or to REELFORGE_SCREENSHOTS (docs/screenshots holds the
# committed ones: REELFORGE_SCREENSHOTS=docs/screenshots pytest tests/web).
SCREENSHOTS = (
    Path(os.environ.get("REELFORGE_SCREENSHOTS", "")).resolve()
    if os.environ.get("REELFORGE_SCREENSHOTS")
    else None
)
DESKTOP = {"width": 1280, "height": 860}
# The accessibility audit a test runs in a page: unnamed controls and text of too low a contrast.
AUDIT = (Path(__file__).parent / "audit.js").read_text(encoding="utf-8")
PHONE = {"width": 390, "height": 844}


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def foreign(urls: list[str]) -> list[str]:
    """The URLs among ``urls`` that went to another host than this machine."""
    return [
        url
        for url in urls
        if urlsplit(url).scheme in ("http", "https", "ws", "wss")
        and urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1")
    ]


@dataclass
class Server:
    """A ``reelforge serve`` subprocess over its own data folder."""

    base: str
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    log: Path
    key: str | None = None

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])


def _server_env(data: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "REELFORGE_DATA_DIR": str(data),
        "REELFORGE_WORKERS": "1",
        "REELFORGE_SSE_POLL_S": "0.1",
        "REELFORGE_RATE_PER_MINUTE": "0",
        "REELFORGE_RETRY_BACKOFF_S": "0",
    }


def start_server(
    folder: Path, command: list[str], *, key: bool, settings: dict[str, str] | None = None
) -> Server:
    """``reelforge serve`` on a free loopback port (``settings``: more REELFORGE_ variables)."""
    import httpx

    folder.mkdir(parents=True, exist_ok=True)
    env = {**_server_env(folder / "data"), **(settings or {})}
    api_key = None
    if key:
        created = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from reelforge.cli import main; sys.exit(main())",
                "keys",
                "create",
                "studio",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        api_key = created.stdout.strip().splitlines()[-1]
    port = free_port()
    log = folder / "server.log"
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [*command, "serve", "--host", LOOPBACK, "--port", str(port), "--log-level", "warning"]
            + ([] if key else ["--open"]),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=REPO,
        )
    server = Server(f"http://{LOOPBACK}:{port}", process, env, log, api_key)
    deadline = time.monotonic() + 90
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"reelforge serve exited early:\n{server.log_tail()}")
        try:
            if httpx.get(f"{server.base}/api/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            stop_process(process)
            raise RuntimeError(f"reelforge serve not ready after 90 s:\n{server.log_tail()}")
        time.sleep(0.2)
    # Warm the catalogue (voices load once per process) before a page times it.
    httpx.get(f"{server.base}/api/voices", timeout=60)
    return server


CLI = [sys.executable, "-c", "import sys; from reelforge.cli import main; sys.exit(main())"]


@dataclass
class Browser:
    """One chromium; pages record every URL they request and every script error."""

    browser: Any
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def page(self, viewport: dict[str, int] = DESKTOP, **options: Any) -> Any:
        context = self.browser.new_context(viewport=viewport, accept_downloads=True, **options)
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("dialog", lambda dialog: dialog.accept())
        return page


def field_error(page: Any, field: str, invalid: str | None = None, own: bool = False) -> str:
    """The text of the error shown beside form field ``field`` (``own``: its own error, not
    one of a field inside it), once it shows; ``invalid``: the control it marks aria-invalid."""
    error = page.locator(f"[data-field='{field}'] {'> ' if own else ''}.field-error")
    error.wait_for(state="visible")
    if invalid is not None:
        assert page.get_attribute(invalid, "aria-invalid") == "true"
    return str(error.text_content())


def screenshot(page: Any, folder: Path, name: str) -> None:
    """Save the page as <folder>/<name>-<desktop|phone>.png (full height), after checking that
    nothing is wider than the window (a phone would scroll sideways)."""
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    path = screenshot_path(folder, name, page.viewport_size["width"], overflow)
    page.screenshot(path=str(path), full_page=True, animations="disabled")


def screenshot_path(folder: Path, name: str, width: int, overflow: int) -> Path:
    """<folder>/<name>-<desktop|phone>.png for a window ``width`` wide, once the page's width
    (``overflow``, its scrollWidth) is checked to fit in it."""
    assert overflow <= width, f"{name}: the page is {overflow} px wide in a {width} px window"
    return folder / f"{name}-{'phone' if width < 600 else 'desktop'}.png"
