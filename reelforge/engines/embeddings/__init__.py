"""Sentence embedding engines (one file each,
behind :class:`~reelforge.engines.base.EmbeddingEngine`)."""
