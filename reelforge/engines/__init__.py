"""Engines: one file per engine behind the small contracts in :mod:`reelforge.engines.base`."""
