"""Pixabay (https://pixabay.com/api/docs/): photos and videos by search words.

``GET {endpoint}/?key=...&q=...`` for photos (``image_type=photo``, ``orientation``
horizontal | vertical, ``lang``, ``safesearch=true``) and ``{endpoint}/videos/`` for clips,
whose ``videos`` offer large / medium / small / tiny renditions (the smallest at least 1080 px
on the short side is taken). Pixabay asks that searches be cached for 24 hours (the planner
does) and that images be downloaded, not hot-linked; credit to the author is appreciated and
given in every item.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlencode

from reelforge.engines.base import StockEngine, StockItem, StockQuery
from reelforge.engines.stock import search

LICENCE = "Pixabay Content License"
# the languages Pixabay searches in (its `lang` values)
LANGUAGES = frozenset(
    ("cs", "da", "de", "en", "es", "fr", "id", "it", "hu", "nl", "no", "pl", "pt", "ro", "sk",
     "fi", "sv", "tr", "vi", "th", "bg", "ru", "el", "ja", "ko", "zh")
)  # fmt: skip
ORIENTATIONS = {"landscape": "horizontal", "portrait": "vertical", "square": "all"}


class PixabayStock(search.Provider, StockEngine):
    name: ClassVar[str] = "pixabay"
    version: ClassVar[str] = "api"
    signup: ClassVar[str] = "pixabay.com/api/docs"

    def search(self, query: StockQuery) -> list[StockItem]:
        path = "/videos/" if query.kind == "video" else "/"
        params = {
            "key": self.key(),
            "q": query.words[:100],  # Pixabay's limit
            "lang": query.language if query.language in LANGUAGES else "en",
            "per_page": max(3, min(query.count, 200)),
            "safesearch": "true",
        }
        if query.kind != "video":
            params["image_type"] = "photo"
            params["orientation"] = ORIENTATIONS.get(query.orientation, "all")
        url = self.settings().pixabay_endpoint.rstrip("/") + path + "?" + urlencode(params)
        hits = search.entries(self.ask(url), "hits")
        read = _video if query.kind == "video" else _photo
        return [item for hit in hits if (item := read(hit))][: query.count]


def _photo(hit: dict[str, Any]) -> StockItem | None:
    url = hit.get("largeImageURL") or hit.get("webformatURL")
    if not isinstance(url, str):
        return None
    size = (search.number(hit, "imageWidth"), search.number(hit, "imageHeight"))
    return _item(hit, "image", url, size)


def _video(hit: dict[str, Any]) -> StockItem | None:
    renditions = hit.get("videos")
    files = (
        [v for v in renditions.values() if isinstance(v, dict) and v.get("url")]
        if (isinstance(renditions, dict))
        else []
    )
    chosen = search.rendition(files)
    if chosen is None:
        return None
    size = (search.number(chosen, "width"), search.number(chosen, "height"))
    return _item(hit, "video", str(chosen["url"]), size, search.number(hit, "duration") * 1000)


def _item(
    hit: dict[str, Any], kind: str, url: str, size: tuple[int, int], duration_ms: int = 0
) -> StockItem:
    return StockItem(
        "pixabay", str(hit.get("id", "")), kind, url, *size, str(hit.get("pageURL", "")),
        str(hit.get("user", "")), "", LICENCE, str(hit.get("tags") or ""), duration_ms,
    )  # fmt: skip
