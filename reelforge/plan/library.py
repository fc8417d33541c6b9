"""A local media library: the user's own pictures and clips, matched to the scenes.

``library: ~/Pictures/shop`` (or ``reelforge make --library``) indexes a folder of images and
clips: the words of each file's name, of a sidecar ``name.txt`` and of its EXIF description,
title and keywords (Pillow reads the headers, no pixels), its orientation and size (EXIF
rotation applied; clips through ffprobe, with their duration). The index is cached in the cache
dir, keyed by the folder's and files' modification times and sizes. Each scene without its own
picture gets the best unused asset whose words meet the scene's title, narration and prompt
words (same word, an inflection, or a word of another language calling for the same subject)
or whose description is close in meaning to the scene's text (the cosine of their sentence
embeddings, all-MiniLM-L6-v2: "seafood barbecue" finds ``grilled-sardines.jpg``; English-centred,
so other languages rely on the words), the right orientation for the output preferred; the
manifest says which words matched, how close the meaning was, and the score. Asset embeddings
are cached by their description (one file per model in the cache dir), so a library is embedded
once and a new file costs one embedding. Scenes nothing matched keep the default visuals. CLI
and library use only: the service takes uploads, never folders.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reelforge.errors import MediaError
from reelforge.spec.model import Storyboard, VisualSpec
from reelforge.text.words import concepts, word_hit, words

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")
VIDEO_EXTENSIONS = (".mp4", ".mov", ".m4v", ".webm", ".mkv")
INDEX_VERSION = 1
MAX_ASSETS = 5000
MIN_SCORE = 0.6  # one concept shared; a word or its inflection scores more
TITLE_WEIGHT = 1.5
CONCEPT = 0.6
WRONG_ORIENTATION = 0.5  # a matching picture of the other orientation still beats none
# Meaning: cosines of all-MiniLM-L6-v2 embeddings of the scene's text and the asset's words.
# Unrelated pairs score under ~0.3, a picture of the scene's subject ~0.45-0.9; the points
# (up to MEANING_WEIGHT) add to the words' score, so a cosine of 0.47 alone reaches MIN_SCORE.
MEANING_FLOOR = 0.3
MEANING_WEIGHT = 2.5
MEANING_CACHE_SIZE = 20_000  # descriptions whose vectors the cache keeps (this library's first)
# EXIF tags: ImageDescription, Orientation, and Windows' XPTitle, XPComment, XPKeywords, XPSubject
_DESCRIPTION, _ORIENTATION = 270, 274
_XP_TAGS = (0x9C9B, 0x9C9C, 0x9C9E, 0x9C9F)


@dataclass(frozen=True)
class Asset:
    """One picture or clip of the library, as indexed."""

    path: str
    kind: str  # "image" | "video"
    width: int
    height: int
    duration_ms: int
    words: tuple[str, ...]

    @property
    def orientation(self) -> str:
        return orientation(self.width, self.height)


@dataclass(frozen=True)
class LibraryMatch:
    """The asset chosen for a scene, and why."""

    scene: int
    asset: Asset
    matched: tuple[str, ...]  # "scene word~asset word" pairs, or one word when the same
    score: float  # words + meaning, halved for the wrong orientation
    orientation_ok: bool
    meaning: float | None = None  # cosine of the scene's and the asset's embeddings, if any

    def picture(self) -> dict[str, str]:
        """The scene's picture facts for the manifest."""
        fit = "" if self.orientation_ok else f", {self.asset.orientation} (blur-fitted)"
        said = list(self.matched)
        if self.meaning is not None and meaning_points(self.meaning):
            said.append(f"close in meaning {self.meaning:.2f}")
        return {
            "engine": "library",
            "matched": f"{Path(self.asset.path).name} ({', '.join(said)})",
            "why": f"score {self.score:.2f}{fit}",
            "asset": self.asset.path,
        }


def orientation(width: int, height: int) -> str:
    if width > height * 1.1:
        return "landscape"
    if height > width * 1.1:
        return "portrait"
    return "square"


def index_folder(folder: str | Path, cache_dir: str | Path | None = None) -> list[Asset]:
    """Every picture and clip under ``folder``, from the cache when nothing changed."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        state = "is a file" if root.exists() else "not found"
        raise MediaError(
            f"media library {root} {state}",
            hint="give a folder of your pictures and clips: --library ~/Pictures/shop",
        )
    root = root.resolve()
    files: list[Path] = []
    stamp = hashlib.sha256(f"v{INDEX_VERSION} {root}".encode())
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        stamp.update(f"{dirpath} {os.stat(dirpath).st_mtime_ns}\n".encode())
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if name.startswith(".") or path.suffix.lower() not in (
                *IMAGE_EXTENSIONS,
                *VIDEO_EXTENSIONS,
                ".txt",
            ):
                continue
            stat = path.stat()
            stamp.update(f"{name} {stat.st_mtime_ns} {stat.st_size}\n".encode())
            if path.suffix.lower() != ".txt":
                files.append(path)
    if len(files) > MAX_ASSETS:
        raise MediaError(
            f"media library {root} holds {len(files)} pictures and clips",
            hint=f"give a folder of at most {MAX_ASSETS}",
        )
    cache = None
    if cache_dir is not None:
        cache = Path(cache_dir) / "library" / f"{stamp.hexdigest()[:32]}.json"
        if cache.is_file():
            try:
                data = json.loads(cache.read_text("utf-8"))
                return [Asset(**{**item, "words": tuple(item["words"])}) for item in data]
            except (ValueError, TypeError, KeyError):
                pass  # a damaged cache entry: index again
    assets = [a for a in (_asset(path) for path in files) if a is not None]
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(".part")
        partial.write_text(json.dumps([asdict(a) for a in assets]), "utf-8")
        partial.replace(cache)
    return assets


def _asset(path: Path) -> Asset | None:
    """``path`` indexed, or None when it cannot be read as a picture or clip (skipped)."""
    text = [path.stem]
    sidecar = path.with_suffix(".txt")
    if sidecar.is_file():
        text.append(sidecar.read_text("utf-8", errors="replace")[:10_000])
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        header = _image_header(path)
        if header is None:
            return None
        width, height, described = header
        text.append(described)
        kind, duration_ms = "image", 0
    else:
        from reelforge.media.probe import probe

        try:
            info = probe(path)
        except MediaError:
            return None
        if not info.has_video or not info.width or not info.height:
            return None
        width, height = info.width, info.height
        if info.rotation % 180:
            width, height = height, width
        kind, duration_ms = "video", info.duration_ms
    found = tuple(dict.fromkeys(words(" ".join(text))))
    return Asset(str(path), kind, width, height, duration_ms, found)


def _image_header(path: Path) -> tuple[int, int, str] | None:
    """Size (EXIF rotation applied) and EXIF words of an image, from its header only."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:  # lazy: reads the header, decodes no pixels
            width, height = image.size
            exif = image.getexif()
    except (OSError, UnidentifiedImageError, ValueError):
        return None
    if exif.get(_ORIENTATION) in (5, 6, 7, 8):
        width, height = height, width
    said: list[str] = []
    description = exif.get(_DESCRIPTION)
    if isinstance(description, str):
        said.append(description)
    for tag in _XP_TAGS:  # UTF-16LE bytes (or a list of byte values), keywords split by ';'
        value = exif.get(tag)
        if isinstance(value, tuple | list):
            value = bytes(value)
        if isinstance(value, bytes):
            said.append(value.decode("utf-16-le", errors="replace").rstrip("\x00"))
    return width, height, " ".join(said).replace(";", " ")


def _scene_words(sb: Storyboard, index: int) -> list[tuple[str, float]]:
    scene = sb.scenes[index]
    found = [(w, TITLE_WEIGHT) for w in words(scene.title or "")]
    found += [(w, 1.0) for w in words(scene.narration)]
    if scene.visual is not None and scene.visual.prompt:
        found += [(w, 1.0) for w in words(scene.visual.prompt)]
    return found


def score(scene_words: list[tuple[str, float]], asset: Asset) -> tuple[float, tuple[str, ...]]:
    """How well ``asset`` matches the scene's (word, weight) pairs, and the matched words.

    Each asset word counts once, by its best hit: the same word 1.0, an inflection 0.8, a
    word calling for the same lexicon subject 0.6; times the scene word's weight."""
    total, matched = 0.0, []
    for asset_word in asset.words:
        best, why = 0.0, ""
        for word, weight in scene_words:
            hit = word_hit(word, asset_word)
            if not hit and len(word) >= 3 and concepts(word) & concepts(asset_word):
                hit = CONCEPT
            if hit * weight > best:
                best = hit * weight
                why = asset_word if word == asset_word else f"{word}~{asset_word}"
        if best:
            total += best
            matched.append(why)
    return total, tuple(matched)


def meaning_points(cosine: float) -> float:
    """The points a cosine of embeddings adds to a match: 0 up to :data:`MEANING_FLOOR`, then
    rising to :data:`MEANING_WEIGHT` at 1."""
    return max(0.0, cosine - MEANING_FLOOR) / (1 - MEANING_FLOOR) * MEANING_WEIGHT


def _scene_text(sb: Storyboard, index: int) -> str:
    scene = sb.scenes[index]
    prompt = scene.visual.prompt if scene.visual is not None and scene.visual.prompt else ""
    return " ".join(t for t in (scene.title or "", scene.narration, prompt) if t).strip()


def similarities(
    sb: Storyboard, assets: list[Asset], cache_dir: str | Path | None = None
) -> NDArray[np.float32] | None:
    """Cosines of each scene's text and each asset's words (scenes x assets), or None without
    the embedding model. Asset vectors come from the cache when their words were seen."""
    from reelforge.text.meaning import embed

    texts = [_scene_text(sb, k) for k in range(len(sb.scenes))]
    if not assets or not any(texts):
        return None
    scenes = embed(texts)
    if scenes is None:
        return None
    vectors = _asset_vectors(assets, scenes.model, cache_dir)
    return None if vectors is None else scenes.vectors @ vectors.T


def _asset_vectors(
    assets: list[Asset], model: str, cache_dir: str | Path | None
) -> NDArray[np.float32] | None:
    import numpy as np

    from reelforge.text.meaning import embed

    descriptions = [" ".join(a.words) for a in assets]
    keys = [hashlib.sha1(d.encode()).hexdigest() for d in descriptions]
    known: dict[str, NDArray[np.float32]] = {}
    cache = None
    if cache_dir is not None:
        name = "".join(c if c.isalnum() or c in "-_." else "_" for c in model)
        cache = Path(cache_dir) / "library" / f"meanings-{name}.npz"
        try:
            with np.load(cache) as stored:
                known = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))
        except (OSError, ValueError, KeyError):
            pass  # no cache yet, or a damaged one: embed again
    missing = sorted({d: k for d, k in zip(descriptions, keys, strict=True) if k not in known})
    if missing:
        found = embed(missing)
        if found is None or found.model != model:
            return None
        for description, vector in zip(missing, found.vectors, strict=True):
            known[hashlib.sha1(description.encode()).hexdigest()] = vector
        if cache is not None:
            order = list(dict.fromkeys(keys)) + [k for k in known if k not in set(keys)]
            order = order[:MEANING_CACHE_SIZE]
            cache.parent.mkdir(parents=True, exist_ok=True)
            partial = cache.with_name(cache.name + f".{os.getpid()}.part")
            with partial.open("wb") as out:
                np.savez(out, keys=np.array(order), vectors=np.stack([known[k] for k in order]))
            partial.replace(cache)
    return np.stack([known[k] for k in keys]).astype(np.float32)


def wanted_orientation(sb: Storyboard) -> str:
    return {"16:9": "landscape", "9:16": "portrait"}.get(sb.format, "square")


def choose(
    sb: Storyboard, assets: list[Asset], cache_dir: str | Path | None = None
) -> list[LibraryMatch]:
    """For each scene without its own picture, the best unused asset (best pairs first), by
    shared words plus closeness in meaning (when the embedding model is installed)."""
    wanted = wanted_orientation(sb)
    cosines = similarities(sb, assets, cache_dir)
    candidates: list[tuple[float, int, str, LibraryMatch]] = []
    for index, scene in enumerate(sb.scenes):
        if scene.visual is not None and scene.visual.type in ("image", "video"):
            continue
        said = _scene_words(sb, index)
        if not said and cosines is None:
            continue
        for number, asset in enumerate(assets):
            value, matched = score(said, asset)
            meaning = None if cosines is None else round(float(cosines[index, number]), 3)
            if meaning is not None:
                value += meaning_points(meaning)
            fits = asset.orientation == wanted
            ranked = value if fits else value * WRONG_ORIENTATION
            if value >= MIN_SCORE:
                found = LibraryMatch(index, asset, matched, round(ranked, 3), fits, meaning)
                candidates.append((-ranked, index, asset.path, found))
    chosen: dict[int, LibraryMatch] = {}
    used: set[str] = set()
    for _, index, path, found in sorted(candidates, key=lambda c: c[:3]):
        if index not in chosen and path not in used:
            chosen[index] = found
            used.add(path)
    return [chosen[i] for i in sorted(chosen)]


def apply(sb: Storyboard, matches: list[LibraryMatch]) -> Storyboard:
    """``sb`` with each matched scene showing its asset (blur-fitted when its orientation is
    not the output's); the scene's motion and style are kept."""
    scenes = list(sb.scenes)
    for found in matches:
        scene = scenes[found.scene]
        old = scene.visual
        visual = VisualSpec(
            type="video" if found.asset.kind == "video" else "image",
            path=found.asset.path,
            fit="cover" if found.orientation_ok else "blur",
            motion=old.motion if old is not None else None,
        )
        scenes[found.scene] = scene.model_copy(update={"visual": visual})
    return sb.model_copy(update={"scenes": tuple(scenes)})


def match_library(
    sb: Storyboard, cache_dir: str | Path | None = None
) -> tuple[Storyboard, list[LibraryMatch], str]:
    """``sb`` with its library's assets in the scenes they match, the matches, and a note."""
    if not sb.library:
        return sb, [], ""
    assets = index_folder(sb.library, cache_dir)
    matches = choose(sb, assets, cache_dir)
    note = (
        f"library: {len(matches)} of {len(sb.scenes)} scenes show your media from "
        f"{sb.library} ({len(assets)} pictures and clips indexed)"
    )
    return apply(sb, matches), matches, note
