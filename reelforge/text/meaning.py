"""Sentence meanings for planners that compare texts (clips' topics and ``--query``, the media
library): unit vectors from the configured embeddings engine (``embeddings_engine`` setting,
all-MiniLM-L6-v2 by default), or None where it cannot run, so the caller falls back to word
matching. The cosine similarity of two texts is the dot product of their vectors.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from reelforge.engines.base import Embeddings
from reelforge.errors import EngineFailed, EngineUnavailable

log = logging.getLogger(__name__)
OFF = ("", "none", "off")


def embed(texts: Sequence[str]) -> Embeddings | None:
    """The vectors of ``texts``, or None when embeddings are off or their engine cannot run
    here (its model package not installed, or broken: a warning says so): callers then match
    words alone."""
    from reelforge.settings import get_settings

    name = get_settings().embeddings_engine.strip().lower()
    if name in OFF or not texts:
        return None
    from reelforge.engines import registry
    from reelforge.engines.base import EmbeddingRequest

    try:
        return registry.get("embeddings", name).embed(EmbeddingRequest(tuple(texts)))
    except EngineUnavailable as exc:
        log.info("sentence embeddings unavailable, matching words only: %s", exc.message)
    except EngineFailed as exc:
        log.warning("sentence embeddings failed, words only: %s (%s)", exc.message, exc.hint)
    return None
