"""Story writers (one file each, behind :class:`reelforge.engines.base.WriterEngine`)."""
