"""A caption translator running a local CTranslate2 model folder: NLLB-200, M2M-100 or
Marian (OPUS-MT), offline.

``REELFORGE_TRANSLATION_MODEL`` names the folder ``ct2-transformers-converter`` wrote (with
``--copy_files`` of the model's sentencepiece files), or a folder holding several of them;
nothing downloads. The model's family is read from its vocabulary, and each cue is tokenised
the way that family was trained:

* NLLB-200: ``[fra_Latn] pieces </s>`` in, the target's code (``arb_Arab``) as the target
  prefix; M2M-100 the same with ``__fr__`` codes;
* multilingual Marian (``opus-mt-en-mul``...): ``>>fra<< pieces </s>``;
* a Marian pair (``opus-mt-en-fr``): ``pieces </s>``; in a folder of models, the one whose
  name ends in ``-<source>-<target>`` is used.

Every cue is translated on its own (its timing is its own), in batches.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from reelforge.engines.base import EngineInfo, Translation, TranslationRequest
from reelforge.errors import EngineFailed, EngineUnavailable
from reelforge.settings import Settings, get_settings
from reelforge.text.languages import (
    TRANSLATION_LANGUAGES,
    TranslationLanguage,
    translation_language,
)

VERSION = "1"
_INSTALL = "pip install ctranslate2 sentencepiece (or reelforge[translate])"
_SET_MODEL = (
    "set REELFORGE_TRANSLATION_MODEL to a CTranslate2 model folder, e.g. "
    "ct2-transformers-converter --model facebook/nllb-200-distilled-600M "
    "--output_dir nllb-ct2 --copy_files sentencepiece.bpe.model"
)
SOURCE_SPM = ("source.spm", "sentencepiece.bpe.model", "spm.model", "sentencepiece.model")
TARGET_SPM = ("target.spm",)  # else the source's (NLLB, M2M-100 share one)
SPECIAL = frozenset({"</s>", "<s>", "<pad>", "<unk>"})
BATCH = 16  # cues per translate_batch call


@dataclass(frozen=True)
class Tokens:
    """How one model wants a cue: tokens before and after its pieces, and the target prefix."""

    before: tuple[str, ...]
    prefix: tuple[str, ...]  # the decoder's first tokens (NLLB's and M2M's target language)


def language_tokens(
    vocabulary: frozenset[str], source: TranslationLanguage, target: TranslationLanguage
) -> Tokens:
    """The language tokens the model with ``vocabulary`` takes for ``source`` -> ``target``;
    EngineFailed when it is multilingual and does not know one of them."""
    if any(token.endswith("_Latn") for token in vocabulary):  # NLLB-200
        return Tokens(
            (_known(vocabulary, source, source.nllb),), (_known(vocabulary, target, target.nllb),)
        )
    if any(re.fullmatch(r"__[a-z]{2,3}__", token) for token in vocabulary):  # M2M-100
        return Tokens(
            (_known(vocabulary, source, f"__{source.code}__"),),
            (_known(vocabulary, target, f"__{target.code}__"),),
        )
    if any(re.fullmatch(r">>[a-z_A-Z]{2,8}<<", token) for token in vocabulary):  # Marian mul
        for code in (target.iso639_2, target.code, target.nllb.split("_")[0]):
            if f">>{code}<<" in vocabulary:
                return Tokens((f">>{code}<<",), ())
        _known(vocabulary, target, f">>{target.iso639_2}<<")
    return Tokens((), ())  # a Marian pair: the folder is the language pair


def _known(vocabulary: frozenset[str], language: TranslationLanguage, token: str) -> str:
    if token not in vocabulary:
        raise EngineFailed(
            f"the translation model does not know {language.name} (no {token!r} token)",
            hint="choose a language the model was trained on, or another model "
            "(REELFORGE_TRANSLATION_MODEL)",
        )
    return token


def model_folder(root: Path, source: str, target: str) -> Path:
    """The CTranslate2 model for ``source`` -> ``target``: ``root`` itself, or in it the
    sub-folder named ``*-<source>-<target>`` (a Marian pair), else a multilingual one (any
    model not named as a pair of other languages: ``nllb-200``, ``opus-mt-en-mul``)."""
    if (root / "model.bin").is_file():
        return root
    models = (
        sorted(p for p in root.iterdir() if (p / "model.bin").is_file()) if root.is_dir() else []
    )
    pairs = {folder: _pair(folder.name) for folder in models}
    for folder, pair in pairs.items():
        if pair == (source, target):
            return folder
    for folder, pair in pairs.items():
        if pair is None:
            return folder
    found = ", ".join(p.name for p in models) or "none"
    raise EngineUnavailable(
        f"no CTranslate2 model for {source} -> {target} in {root} (models: {found})",
        hint=f"add a Marian folder named like opus-mt-{source}-{target}, or a multilingual "
        f"NLLB-200 model; {_SET_MODEL}",
    )


def _pair(name: str) -> tuple[str, str] | None:
    """(source, target) of a folder named like ``opus-mt-en-fr``; None for other names."""
    found = re.search(r"-([a-z]{2,3})-([a-z]{2,3})$", name.lower())
    if found is None or not {found[1], found[2]} <= set(TRANSLATION_LANGUAGES):
        return None
    return found[1], found[2]


def _vocabulary(folder: Path) -> tuple[frozenset[str], frozenset[str]]:
    """(source, target) vocabularies of a CTranslate2 model folder."""

    def read(name: str) -> frozenset[str] | None:
        for suffix in ("json", "txt"):
            path = folder / f"{name}.{suffix}"
            if path.is_file():
                text = path.read_text(encoding="utf-8")
                tokens = json.loads(text) if suffix == "json" else text.splitlines()
                return frozenset(tokens)
        return None

    shared = read("shared_vocabulary")
    source, target = read("source_vocabulary"), read("target_vocabulary")
    if shared is not None:
        return shared, shared
    if source is None or target is None:
        raise EngineUnavailable(
            f"{folder} has no vocabulary files: it is not a CTranslate2 model folder",
            hint=_SET_MODEL,
        )
    return source, target


def _spm(folder: Path, names: tuple[str, ...]) -> Path | None:
    return next((folder / name for name in names if (folder / name).is_file()), None)


class _Model:
    """A loaded model: the translator and its sentencepiece tokenisers."""

    def __init__(self, folder: Path, device: str) -> None:
        try:
            import ctranslate2
            import sentencepiece
        except ImportError as exc:
            raise EngineUnavailable(
                f"the ctranslate2 translation engine needs {exc.name}", hint=_INSTALL
            ) from None
        source_spm = _spm(folder, SOURCE_SPM)
        if source_spm is None:
            raise EngineUnavailable(
                f"{folder} has no sentencepiece model ({', '.join(SOURCE_SPM)})",
                hint="convert with --copy_files naming the model's sentencepiece files "
                "(Marian: source.spm target.spm; NLLB: sentencepiece.bpe.model)",
            )
        target_spm = _spm(folder, TARGET_SPM) or source_spm
        self.folder = folder
        self.source, self.target = _vocabulary(folder)
        self.encoder = sentencepiece.SentencePieceProcessor(model_file=str(source_spm))
        self.decoder = sentencepiece.SentencePieceProcessor(model_file=str(target_spm))
        if device == "auto":
            device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        try:
            self.translator = ctranslate2.Translator(str(folder), device=device)
        except (RuntimeError, ValueError) as exc:
            raise EngineUnavailable(
                f"CTranslate2 cannot load the model in {folder}: {exc}", hint=_SET_MODEL
            ) from None

    def translate(self, texts: tuple[str, ...], tokens: Tokens) -> list[str]:
        pieces = [list(self.encoder.encode(text, out_type=str)) for text in texts]
        sources = [[*tokens.before, *cue, "</s>"] for cue in pieces]
        out: list[str] = []
        for first in range(0, len(sources), BATCH):
            batch = sources[first : first + BATCH]
            longest = max(len(cue) for cue in batch)
            results = self.translator.translate_batch(
                batch,
                target_prefix=[list(tokens.prefix)] * len(batch) if tokens.prefix else None,
                beam_size=2,
                max_decoding_length=min(512, 2 * longest + 10),
                no_repeat_ngram_size=4,
            )
            for result in results:
                words = [t for t in result.hypotheses[0][len(tokens.prefix) :] if t not in SPECIAL]
                out.append(" ".join(str(self.decoder.decode(words)).split()))
        return out


class CTranslate2Translator:
    """Translates caption cues with the CTranslate2 model of ``REELFORGE_TRANSLATION_MODEL``."""

    name: ClassVar[str] = "ctranslate2"

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings  # None: the process's settings, read at each call
        self._models: dict[tuple[Path, str], _Model] = {}
        self._lock = threading.Lock()

    def _config(self) -> Settings:
        return self._settings if self._settings is not None else get_settings()

    def info(self) -> EngineInfo:
        root = self._config().translation_model
        reason = ""
        if root is None:
            reason = "no model configured: " + _SET_MODEL
        elif not root.is_dir():
            reason = f"REELFORGE_TRANSLATION_MODEL {root} is not a folder"
        else:
            try:
                import ctranslate2  # noqa: F401
                import sentencepiece  # noqa: F401
            except ImportError as exc:
                reason = f"{exc.name} is not installed: {_INSTALL}"
        if reason:
            return EngineInfo(self.name, "translation", VERSION, available=False, reason=reason)
        return EngineInfo(self.name, "translation", VERSION)

    def translate(self, request: TranslationRequest) -> Translation:
        settings = self._config()
        root = settings.translation_model
        if root is None or not root.is_dir():
            raise EngineUnavailable(
                "no CTranslate2 translation model is configured"
                if root is None
                else f"REELFORGE_TRANSLATION_MODEL {root} is not a folder",
                hint=_SET_MODEL,
            )
        source, target = translation_language(request.source), translation_language(request.target)
        model = self._model(
            model_folder(root, source.code, target.code), settings.translation_device
        )
        tokens = language_tokens(model.source | model.target, source, target)
        try:
            texts = model.translate(request.texts, tokens)
        except (RuntimeError, ValueError) as exc:
            raise EngineFailed(
                f"CTranslate2 failed translating into {target.name}: {exc}",
                hint="check the model folder (REELFORGE_TRANSLATION_MODEL) and "
                "REELFORGE_TRANSLATION_DEVICE",
            ) from None
        empty = [
            n
            for n, (text, cue) in enumerate(zip(texts, request.texts, strict=True), 1)
            if cue.strip() and not text
        ]
        if empty:
            raise EngineFailed(
                f"the translation model gave no {target.name} for cue {empty[0]}",
                hint="check the model translates from the narration's language",
            )
        return Translation(tuple(texts), self.name, VERSION, model.folder.name)

    def _model(self, folder: Path, device: str) -> _Model:
        key = (folder.resolve(), device)
        with self._lock:
            if key not in self._models:
                self._models[key] = _Model(folder, device)
            return self._models[key]
