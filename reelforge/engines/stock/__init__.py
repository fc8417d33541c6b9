"""Stock-media providers: pictures and clips found by words, with their attribution."""
