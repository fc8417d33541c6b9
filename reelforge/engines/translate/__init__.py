"""Caption translators (one file each, behind :class:`reelforge.engines.base.TranslationEngine`)."""
