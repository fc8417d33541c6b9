"""reelforge: an offline-first AI video studio."""

__version__ = "0.1.0"
