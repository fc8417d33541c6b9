"""Speech recognition engines (one file each, behind :class:`reelforge.engines.base.AsrEngine`)."""
