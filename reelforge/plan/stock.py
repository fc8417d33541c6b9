"""Stock pictures and clips for the scenes nothing else shows (``stock: pexels``).

Each scene without its own picture (nor one from the media library) is searched on the
provider by its visual prompt, else by the subjects its words call for named in English (the
illustrated engine's lexicon: "سمك مشوي" searches "fish grill"), else by its own words in its
own language. The best unused result of the output's orientation is downloaded into the cache
dir (each file once; searches are reused for ``stock_cache_hours``, as Pixabay asks), checked
like an upload (an image's header before any decoding, a clip through the guarded probe), and
shown blur-fitted when its orientation differs. The manifest credits author, provider, page
and licence for every scene. A scene the provider found nothing for keeps the default visuals,
and the note says so; a missing key, a refused key or an unreachable provider stop the make
with a hint.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from reelforge import network
from reelforge.engines import registry
from reelforge.engines.base import StockItem, StockQuery
from reelforge.errors import EngineFailed, EngineUnavailable, MediaError
from reelforge.plan import library
from reelforge.settings import Settings, get_settings
from reelforge.spec.model import Storyboard
from reelforge.text.language import detect_language
from reelforge.text.words import english_subjects, words

RESULTS = 8  # asked for per scene, to have some of the right orientation to choose from
QUERY_WORDS = 4
IMAGE_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
VIDEO_TYPES = {"video/mp4": ".mp4", "video/webm": ".webm", "video/quicktime": ".mov"}


@dataclass(frozen=True)
class StockMatch:
    """The stock picture or clip chosen for a scene, where it came from, and its credit."""

    scene: int
    item: StockItem
    path: str  # the downloaded file, in the cache dir
    query: str
    orientation_ok: bool

    @property
    def credit(self) -> str:
        kind = "Video" if self.item.kind == "video" else "Photo"
        provider = self.item.provider.capitalize()
        return f"{kind} by {self.item.author or 'unknown'} on {provider} ({self.item.page})"

    def picture(self) -> dict[str, str]:
        """The scene's picture facts for the manifest, with the attribution."""
        fit = "" if self.orientation_ok else ", other orientation (blur-fitted)"
        return {
            "engine": f"stock:{self.item.provider}",
            "matched": f"{self.item.provider} #{self.item.id} for '{self.query}'",
            "why": f"first unused result{fit}",
            "asset": self.path,
            "credit": self.credit,
            "licence": self.item.licence,
        }


def scene_query(sb: Storyboard, index: int) -> tuple[str, str]:
    """``(words, language)`` to search for scene ``index``: its prompt, else the subjects it
    calls for in English, else its own meaningful words."""
    scene = sb.scenes[index]
    if scene.visual is not None and scene.visual.prompt:
        prompt = scene.visual.prompt
        return " ".join(prompt.split()[:12]), detect_language(prompt)
    said = f"{scene.title or ''} {scene.narration}"
    subjects = english_subjects(said)
    if subjects:
        return " ".join(subjects[:QUERY_WORDS]), "en"
    own = list(dict.fromkeys(words(said)))[:QUERY_WORDS]
    language = sb.language or detect_language(said)
    return " ".join(own), language.split("-")[0]


def search(
    provider: str, query: StockQuery, cache_dir: Path, settings: Settings
) -> list[StockItem]:
    """The provider's results for ``query``, from the cache when recent enough."""
    key = hashlib.sha256(json.dumps([provider, asdict(query)]).encode()).hexdigest()[:32]
    cached = cache_dir / "stock" / "searches" / f"{key}.json"
    fresh = time.time() - settings.stock_cache_hours * 3600
    if cached.is_file() and cached.stat().st_mtime >= fresh:
        try:
            return [StockItem(**item) for item in json.loads(cached.read_text("utf-8"))]
        except (ValueError, TypeError):
            pass  # a damaged entry: search again
    found = registry.get("stock", provider).search(query)
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(".part")
    partial.write_text(json.dumps([asdict(item) for item in found]), "utf-8")
    partial.replace(cached)
    return found


def download(item: StockItem, cache_dir: Path, settings: Settings) -> Path:
    """``item``'s file in the cache dir (fetched once), checked as a picture or a clip."""
    folder = cache_dir / "stock" / "files"
    stem = hashlib.sha256(f"{item.provider} {item.id} {item.url}".encode()).hexdigest()[:24]
    for existing in folder.glob(f"{stem}.*"):
        if existing.suffix != ".part":
            return existing
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f"{stem}.part"
    try:
        with partial.open("wb") as sink:
            got = network.get(
                item.url,
                timeout_s=settings.stock_timeout_s,
                max_bytes=settings.stock_max_mb << 20,
                allow_private=settings.stock_allow_private,
                sink=sink,
            )
    except (OSError, ValueError) as exc:
        partial.unlink(missing_ok=True)
        raise EngineFailed(
            f"{item.provider} file {item.id} could not be downloaded ({exc})",
            hint="try again; or raise REELFORGE_STOCK_MAX_MB for a large clip",
        ) from exc
    if got.status != 200:
        partial.unlink(missing_ok=True)
        raise EngineFailed(
            f"{item.provider} file {item.id} answered HTTP {got.status}", hint="try again later"
        )
    final = folder / f"{stem}{_suffix(item, got.headers.get('content-type', ''))}"
    _check(partial, item.kind)
    partial.replace(final)
    return final


def _suffix(item: StockItem, content_type: str) -> str:
    types = VIDEO_TYPES if item.kind == "video" else IMAGE_TYPES
    given = types.get(content_type.split(";")[0].strip().lower())
    if given:
        return given
    suffix = PurePosixPath(urlsplit(item.url).path).suffix.lower()
    return suffix if suffix in types.values() else (".mp4" if item.kind == "video" else ".jpg")


def _check(path: Path, kind: str) -> None:
    """Refuse (and delete) a download that is not the picture or clip it claims to be."""
    from reelforge.media.probe import check_image, probe

    try:
        if kind == "image":
            check_image(path)
        elif not probe(path).has_video:
            raise MediaError("the stock clip has no picture", hint="choose another provider")
    except MediaError:
        path.unlink(missing_ok=True)
        raise


def choose(
    sb: Storyboard, cache_dir: Path, settings: Settings, taken: set[int]
) -> tuple[list[StockMatch], list[int]]:
    """For each scene without a picture (and not in ``taken``), the best unused result,
    downloaded; and the scenes nothing was found for."""
    assert sb.stock is not None
    wanted = library.wanted_orientation(sb)
    matches: list[StockMatch] = []
    missed: list[int] = []
    used: set[str] = set()
    for index, scene in enumerate(sb.scenes):
        has_picture = scene.visual is not None and scene.visual.type in ("image", "video")
        if has_picture or index in taken:
            continue
        words_, language = scene_query(sb, index)
        query = StockQuery(words_, language, wanted, sb.stock.kind, RESULTS)
        found = search(sb.stock.provider, query, cache_dir, settings) if words_ else []
        found = [item for item in found if item.id not in used]
        if not found:
            missed.append(index)
            continue
        fitting = [i for i in found if library.orientation(i.width, i.height) == wanted]
        item = (fitting or found)[0]
        used.add(item.id)
        path = download(item, cache_dir, settings)
        matches.append(StockMatch(index, item, str(path), words_, bool(fitting)))
    return matches, missed


def match_stock(
    sb: Storyboard, cache_dir: Path, taken: set[int]
) -> tuple[Storyboard, list[StockMatch], str]:
    """``sb`` with stock pictures in the scenes still without one, the matches, and a note."""
    if sb.stock is None:
        return sb, [], ""
    engine = registry.get("stock", sb.stock.provider)
    info = engine.info()
    if not info.available:
        raise EngineUnavailable(
            f"stock provider {sb.stock.provider!r} is not set up", hint=info.reason
        )
    matches, missed = choose(sb, cache_dir, get_settings(), taken)
    shown = [
        library.LibraryMatch(
            m.scene,
            library.Asset(m.path, m.item.kind, m.item.width, m.item.height, m.item.duration_ms, ()),
            (),
            0.0,
            m.orientation_ok,
        )
        for m in matches
    ]
    note = f"stock: {len(matches)} scenes show {sb.stock.provider} {sb.stock.kind}s"
    if missed:
        note += f"; nothing found for scene(s) {', '.join(str(i + 1) for i in missed)}"
    return library.apply(sb, shown), matches, note
