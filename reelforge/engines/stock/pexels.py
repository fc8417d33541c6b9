"""Pexels (https://www.pexels.com/api/): photos and videos by search words.

``GET {endpoint}/v1/search`` and ``{endpoint}/videos/search`` with ``query``, ``orientation``
(landscape | portrait | square), ``locale`` and ``per_page``; the key goes in the
``Authorization`` header. A photo's ``src`` offers several sizes (``large2x`` is about 1880 px
wide, enough for 1080p); a video lists its ``video_files``, of which the smallest at least
1080 px on the short side is taken (else the largest). Pexels asks for a credit to the
photographer and a link to Pexels: both are in every item.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlencode

from reelforge.engines.base import StockEngine, StockItem, StockQuery
from reelforge.engines.stock import search

LICENCE = "Pexels License"
# the languages Pexels searches in (its `locale` values)
LOCALES = {
    "en": "en-US", "pt": "pt-BR", "es": "es-ES", "ca": "ca-ES", "de": "de-DE", "it": "it-IT",
    "fr": "fr-FR", "sv": "sv-SE", "id": "id-ID", "pl": "pl-PL", "ja": "ja-JP", "zh": "zh-CN",
    "ko": "ko-KR", "th": "th-TH", "nl": "nl-NL", "hu": "hu-HU", "vi": "vi-VN", "cs": "cs-CZ",
    "da": "da-DK", "fi": "fi-FI", "uk": "uk-UA", "el": "el-GR", "ro": "ro-RO", "nb": "nb-NO",
    "sk": "sk-SK", "tr": "tr-TR", "ru": "ru-RU",
}  # fmt: skip


class PexelsStock(search.Provider, StockEngine):
    name: ClassVar[str] = "pexels"
    version: ClassVar[str] = "v1"
    signup: ClassVar[str] = "pexels.com/api"

    def search(self, query: StockQuery) -> list[StockItem]:
        params = {
            "query": query.words,
            "orientation": query.orientation,
            "per_page": max(1, min(query.count, 80)),
            "locale": LOCALES.get(query.language, "en-US"),
        }
        path = "/videos/search" if query.kind == "video" else "/v1/search"
        url = self.settings().pexels_endpoint.rstrip("/") + path + "?" + urlencode(params)
        answer = self.ask(url, Authorization=self.key())
        if query.kind == "video":
            return [item for v in search.entries(answer, "videos") if (item := _video(v))]
        return [item for p in search.entries(answer, "photos") if (item := _photo(p))]


def _photo(photo: dict[str, Any]) -> StockItem | None:
    sources = photo.get("src")
    url = (sources.get("large2x") or sources.get("original")) if isinstance(sources, dict) else 0
    if not isinstance(url, str):
        return None
    credit = (str(photo.get("photographer", "")), str(photo.get("photographer_url", "")))
    size = (search.number(photo, "width"), search.number(photo, "height"))
    return _item(photo, "image", url, size, credit, description=str(photo.get("alt") or ""))


def _video(video: dict[str, Any]) -> StockItem | None:
    files = [f for f in video.get("video_files") or [] if isinstance(f, dict) and f.get("link")]
    chosen = search.rendition([f for f in files if f.get("file_type", "video/mp4") == "video/mp4"])
    if chosen is None:
        return None
    user = video.get("user")
    user = user if isinstance(user, dict) else {}
    credit = (str(user.get("name", "")), str(user.get("url", "")))
    size = (search.number(chosen, "width"), search.number(chosen, "height"))
    duration_ms = search.number(video, "duration") * 1000
    return _item(video, "video", str(chosen["link"]), size, credit, duration_ms=duration_ms)


def _item(
    entry: dict[str, Any],
    kind: str,
    url: str,
    size: tuple[int, int],
    credit: tuple[str, str],
    **more: Any,
) -> StockItem:
    author, author_page = credit
    return StockItem(
        "pexels", str(entry.get("id", "")), kind, url, *size, str(entry.get("url", "")),
        author, author_page, LICENCE, **more,
    )  # fmt: skip
