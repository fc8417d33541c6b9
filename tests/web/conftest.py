"""Fixtures for the studio's browser tests: real ``reelforge serve`` processes on free loopback
ports, Debian's chromium driven by Playwright and Debian's firefox-esr driven over WebDriver BiDi
(helpers in studio_support.py and bidi.py; modules named apart, as ``conftest`` is taken by
another test folder when the suite runs in one session)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from bidi import Firefox, firefox_binary
from chat_server import FakeChatServer, translation_tagged
from servers import missing, stop_process
from studio_support import (
    CLI,
    SCREENSHOTS,
    Browser,
    Server,
    chromium_binary,
    foreign,
    start_server,
)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = chromium_binary()
    if path is None:
        missing("chromium", "apt-get install chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing("playwright (Python)", "pip install playwright")
    return path  # type: ignore[return-value]


@pytest.fixture(scope="session")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``reelforge serve`` needing an API key, with the real engines (preview jobs take seconds)."""
    server = start_server(tmp_path_factory.mktemp("keyed"), CLI, key=True)
    yield server
    stop_process(server.process)


@pytest.fixture(scope="session")
def translating_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``reelforge serve --open`` translating captions through a fake OpenAI-compatible chat
    server on loopback (each cue comes back as "[fr] cue")."""
    with FakeChatServer(answer=translation_tagged) as chat:
        settings = {
            "REELFORGE_LLM_ENDPOINT": chat.url,
            "REELFORGE_LLM_MODEL": "fake-model",
            "REELFORGE_TRANSLATION_ENGINE": "openai-compatible",
        }
        folder = tmp_path_factory.mktemp("translating")
        server = start_server(folder, CLI, key=False, settings=settings)
        yield server
        stop_process(server.process)


@pytest.fixture(scope="session")
def toy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``reelforge serve --open`` with a toy job kind plugged in (tests/web/toykind.py)."""
    launcher = [sys.executable, str(Path(__file__).parent / "serve_with_toy.py")]
    server = start_server(tmp_path_factory.mktemp("toy"), launcher, key=False)
    yield server
    stop_process(server.process)


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path,
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
        )
        try:
            yield Browser(chromium)
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def firefox() -> Iterator[Firefox]:
    """Debian's firefox-esr, headless, one tab driven over WebDriver BiDi (``bidi.py``)."""
    path = firefox_binary()
    if path is None:
        missing("firefox-esr", "apt-get install firefox-esr")
    try:
        import websockets  # noqa: F401
    except ImportError:
        missing("websockets (Python)", "pip install websockets")
    browser = Firefox(path)  # type: ignore[arg-type]
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def pages(browser: Browser) -> Iterator[Browser]:
    """The browser; after the test, no page requested another host or threw a script error."""
    browser.requests.clear()
    browser.errors.clear()
    yield browser
    assert foreign(browser.requests) == [], f"pages requested other hosts: {browser.requests}"
    assert browser.errors == [], f"script errors: {browser.errors}"


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = SCREENSHOTS or tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
