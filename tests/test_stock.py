"""Stock media: Pexels and Pixabay adapters against a loopback server speaking their APIs,
the planner's search, download, cache and credit, and the refusals."""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from loopback import LoopbackServer, Reply, Request
from PIL import Image

from reelforge import network
from reelforge.engines import registry
from reelforge.engines.base import StockQuery
from reelforge.errors import EngineFailed, EngineUnavailable, MediaError
from reelforge.plan import stock
from reelforge.settings import get_settings
from reelforge.spec.parse import build_storyboard

KEY = "test-key-123"


def _jpeg(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "JPEG")
    return out.getvalue()


class FakeStock:
    """A loopback server answering like Pexels (/v1/search, /videos/search, Authorization
    header) and Pixabay (/api/, /api/videos/, ``key`` parameter), serving the files it lists."""

    def __init__(self, clip: bytes = b"") -> None:
        self.requests: list[tuple[str, dict[str, list[str]], dict[str, str]]] = []
        self.files: dict[str, tuple[str, bytes]] = {
            "wide.jpg": ("image/jpeg", _jpeg(320, 180, (20, 40, 230))),  # red in BGR terms
            "tall.jpg": ("image/jpeg", _jpeg(180, 320, (230, 40, 20))),
            "page.html": ("text/html", b"<html>not a picture</html>"),
        }
        if clip:
            self.files["clip.mp4"] = ("video/mp4", clip)
        self.server = LoopbackServer(self._reply)
        self.url = self.server.url

    def _reply(self, request: Request) -> Reply:
        parts = urlsplit(request.path)
        query = parse_qs(parts.query)
        self.requests.append((parts.path, query, request.headers))
        status, kind, body = self.answer(parts.path, query, request.headers)
        return Reply(status, body, kind)

    def answer(
        self, path: str, query: dict[str, list[str]], headers: dict[str, str]
    ) -> tuple[int, str, bytes]:
        if path.startswith("/files/"):
            kind, body = self.files.get(path.removeprefix("/files/"), ("text/plain", b""))
            return (200 if body else 404), kind, body
        if path in ("/v1/search", "/videos/search"):
            if headers.get("Authorization") != KEY:
                return 401, "application/json", b'{"error": "Unauthorized"}'
            return 200, "application/json", json.dumps(self._pexels(path, query)).encode()
        if path in ("/api/", "/api/videos/"):
            if query.get("key") != [KEY]:
                return 400, "text/plain", b'[ERROR 400] "key" is invalid'
            return 200, "application/json", json.dumps(self._pixabay(path, query)).encode()
        return 404, "text/plain", b"not found"

    def _pexels(self, path: str, query: dict[str, list[str]]) -> dict[str, Any]:
        words = query["query"][0]
        if "nothing" in words:
            return {"photos": [], "videos": [], "total_results": 0}
        if path == "/videos/search":
            return {
                "videos": [
                    {
                        "id": 77,
                        "width": 1080,
                        "height": 1920,
                        "duration": 8,
                        "url": "https://www.pexels.com/video/77/",
                        "user": {"name": "Amina K", "url": "https://www.pexels.com/@amina"},
                        "video_files": [
                            {"link": self.url + "/files/clip.mp4", "file_type": "video/mp4",
                             "width": 180, "height": 320},
                        ],
                    }
                ]
            }  # fmt: skip
        photo = {
            "id": 1,
            "url": "https://www.pexels.com/photo/1/",
            "photographer": "Yacine B",
            "photographer_url": "https://www.pexels.com/@yacine",
            "alt": f"a photo of {words}",
        }
        files = self.url + "/files/"
        return {
            "photos": [
                {**photo, "width": 1920, "height": 1080, "src": {"large2x": files + "wide.jpg"}},
                {**photo, "id": 2, "width": 1080, "height": 1920,
                 "src": {"large2x": files + "tall.jpg"}},
                {**photo, "id": 3, "width": 1080, "height": 1920,
                 "src": {"large2x": files + "tall.jpg?b"}},
            ]
        }  # fmt: skip

    def _pixabay(self, path: str, query: dict[str, list[str]]) -> dict[str, Any]:
        hit = {"id": 9, "pageURL": "https://pixabay.com/photos/9/", "user": "lea", "tags": "fish"}
        return {
            "total": 1,
            "totalHits": 1,
            "hits": [
                {**hit, "largeImageURL": self.url + "/files/wide.jpg",
                 "imageWidth": 1920, "imageHeight": 1080},
            ],
        }  # fmt: skip

    def __enter__(self) -> FakeStock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.close()

    def count(self, prefix: str) -> int:
        return sum(1 for path, _, _ in self.requests if path.startswith(prefix))


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeStock]:
    with FakeStock() as server:
        monkeypatch.setenv("REELFORGE_CACHE_DIR", str(tmp_path / "cache"))
        monkeypatch.setenv("REELFORGE_PEXELS_API_KEY", KEY)
        monkeypatch.setenv("REELFORGE_PEXELS_ENDPOINT", server.url)
        monkeypatch.setenv("REELFORGE_PIXABAY_API_KEY", KEY)
        monkeypatch.setenv("REELFORGE_PIXABAY_ENDPOINT", server.url + "/api")
        monkeypatch.setenv("REELFORGE_STOCK_ALLOW_PRIVATE", "true")  # the fake is on loopback
        get_settings.cache_clear()
        registry.reset()
        yield server
    get_settings.cache_clear()
    registry.reset()


def _board(**fields: Any) -> Any:
    scenes = [
        {"title": "Le couscous", "narration": "Le couscous de grand-mère, chaque vendredi."},
        {"narration": "سمك مشوي على الفحم"},
    ]
    return build_storyboard({"format": "9:16", "scenes": scenes, **fields}, source="test")


def test_pexels_search_sends_the_key_orientation_and_locale(fake: FakeStock) -> None:
    found = registry.get("stock", "pexels").search(
        StockQuery("couscous", "fr", "portrait", "image", 5)
    )
    assert [item.id for item in found] == ["1", "2", "3"]
    path, query, headers = fake.requests[-1]
    assert path == "/v1/search" and headers["Authorization"] == KEY
    assert query["orientation"] == ["portrait"] and query["locale"] == ["fr-FR"]
    assert found[0].author == "Yacine B" and found[0].licence == "Pexels License"


def test_pexels_video_takes_a_file_and_its_duration(fake: FakeStock) -> None:
    found = registry.get("stock", "pexels").search(StockQuery("sea", kind="video"))
    assert found[0].kind == "video" and found[0].duration_ms == 8000
    assert found[0].url.endswith("/files/clip.mp4") and found[0].author == "Amina K"


def test_pixabay_search_and_a_refused_key(fake: FakeStock, monkeypatch: pytest.MonkeyPatch) -> None:
    found = registry.get("stock", "pixabay").search(StockQuery("fish", "ar", "landscape"))
    _, query, _ = fake.requests[-1]
    assert query["orientation"] == ["horizontal"] and query["lang"] == ["en"]  # no Arabic
    assert found[0].page == "https://pixabay.com/photos/9/" and found[0].author == "lea"
    monkeypatch.setenv("REELFORGE_PIXABAY_API_KEY", "wrong")
    get_settings.cache_clear()
    with pytest.raises(EngineFailed) as refused:
        registry.get("stock", "pixabay").search(StockQuery("fish"))
    assert "refused the key" in refused.value.message
    assert "REELFORGE_PIXABAY_API_KEY" in (refused.value.hint or "")


def test_scenes_get_credited_pictures_of_the_right_orientation_once(
    fake: FakeStock, tmp_path: Path
) -> None:
    board = _board(stock="pexels")
    shown, matches, note = stock.match_stock(board, tmp_path / "cache", set())
    assert [m.scene for m in matches] == [0, 1]
    assert [m.item.id for m in matches] == ["2", "3"]  # portrait, and each result used once
    assert matches[1].query == "fish lamb grill"  # the Arabic scene searched in English
    assert all(scene.visual is not None and scene.visual.type == "image" for scene in shown.scenes)
    picture = matches[0].picture()
    assert picture["credit"].startswith("Photo by Yacine B on Pexels (https://www.pexels.com/")
    assert picture["licence"] == "Pexels License" and "2 scenes" in note
    files = fake.count("/files/")
    stock.match_stock(board, tmp_path / "cache", set())  # searches and files come from the cache
    assert fake.count("/files/") == files and fake.count("/v1/search") == 2


def test_a_scene_nothing_is_found_for_keeps_the_default_visuals(
    fake: FakeStock, tmp_path: Path
) -> None:
    board = build_storyboard(
        {
            "stock": "pexels",
            "scenes": [
                {"narration": "Hello there.", "visual": {"prompt": "nothing at all"}},
                {"narration": "Our couscous."},
            ],
        },
        source="test",
    )
    shown, matches, note = stock.match_stock(board, tmp_path / "cache", set())
    assert [m.scene for m in matches] == [1]
    assert shown.scenes[0].visual is not None and shown.scenes[0].visual.type != "image"
    assert "nothing found for scene(s) 1" in note


def test_scenes_the_library_matched_are_left_alone(fake: FakeStock, tmp_path: Path) -> None:
    _, matches, _ = stock.match_stock(_board(stock="pexels"), tmp_path / "cache", {0})
    assert [m.scene for m in matches] == [1]


def test_a_download_that_is_not_a_picture_is_refused_and_not_kept(
    fake: FakeStock, tmp_path: Path
) -> None:
    item = registry.get("stock", "pexels").search(StockQuery("couscous"))[0]
    bad = type(item)(**{**item.__dict__, "url": fake.url + "/files/page.html"})
    with pytest.raises(MediaError):
        stock.download(bad, tmp_path, get_settings())
    assert not list((tmp_path / "stock" / "files").iterdir())


def test_an_oversized_download_is_refused(
    fake: FakeStock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = registry.get("stock", "pexels").search(StockQuery("couscous"))[0]
    with pytest.raises(ValueError, match="more than"), (tmp_path / "sink").open("wb") as sink:
        network.get(item.url, max_bytes=100, allow_private=True, sink=sink)


def test_private_and_odd_targets_are_refused_before_any_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_connection(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr("socket.create_connection", no_connection)
    monkeypatch.setattr("socket.getaddrinfo", no_connection)
    for url in (
        "http://10.0.0.1/x.jpg",
        "http://169.254.169.254/latest/meta-data",
        "http://[::ffff:127.0.0.1]/x",
        "http://0x7f000001/x",
        "http://localhost/x",
        "file:///etc/passwd",
        "ftp://example.org/x",
    ):
        with pytest.raises(network.RefusedAddress):
            network.get(url)


def test_without_a_key_the_provider_says_how_to_set_it_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("REELFORGE_PEXELS_API_KEY", raising=False)
    get_settings.cache_clear()
    registry.reset()
    try:
        info = registry.get("stock", "pexels").info()
        assert not info.available and "REELFORGE_PEXELS_API_KEY" in info.reason
        with pytest.raises(EngineUnavailable) as missing:
            stock.match_stock(_board(stock="pexels"), tmp_path, set())
        assert "REELFORGE_PEXELS_API_KEY" in (missing.value.hint or "")
    finally:
        get_settings.cache_clear()
        registry.reset()


def test_a_stock_clip_is_downloaded_probed_and_shown(tmp_path: Path, monkeypatch) -> None:
    clip = tmp_path / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=0x1428e6:s=180x320:d=1",
         "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", str(clip)],
        check=True,
    )  # fmt: skip
    with FakeStock(clip.read_bytes()) as server:
        monkeypatch.setenv("REELFORGE_PEXELS_API_KEY", KEY)
        monkeypatch.setenv("REELFORGE_PEXELS_ENDPOINT", server.url)
        monkeypatch.setenv("REELFORGE_STOCK_ALLOW_PRIVATE", "true")
        get_settings.cache_clear()
        registry.reset()
        try:
            board = _board(stock={"provider": "pexels", "kind": "video"})
            shown, matches, _ = stock.match_stock(board, tmp_path / "cache", set())
        finally:
            get_settings.cache_clear()
            registry.reset()
    assert [m.item.kind for m in matches] == ["video"]  # one clip: the second scene has none
    assert shown.scenes[0].visual is not None and shown.scenes[0].visual.type == "video"
    assert Path(matches[0].path).suffix == ".mp4"
    assert matches[0].picture()["credit"].startswith("Video by Amina K on Pexels")


def test_make_shows_and_credits_the_stock_picture(fake: FakeStock, tmp_path: Path) -> None:
    import reelforge

    board = build_storyboard(
        {
            "format": "16:9",
            "resolution": 180,
            "stock": "pexels",
            "captions": {"enabled": False},
            "music": {"enabled": False},
            "scenes": [{"narration": "Fresh sardines.", "duration": 1.0}],
        },
        source="test",
    )
    out = tmp_path / "out.mp4"
    reelforge.make(board, out)
    manifest = json.loads(out.with_suffix(".json").read_text("utf-8"))
    text = json.dumps(manifest)
    assert "Photo by Yacine B on Pexels" in text and "Pexels License" in text
    frame = subprocess.run(
        ["ffmpeg", "-v", "error", "-ss", "0.5", "-i", str(out), "-frames:v", "1",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    pixels = np.frombuffer(frame, np.uint8).reshape(180, 320, 3).astype(int)
    red, green, blue = (pixels[60:120, 100:220, c].mean() for c in range(3))
    assert blue > red + 60  # the landscape photo (20, 40, 230) fills the frame
