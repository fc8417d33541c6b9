"""Long video -> ranked, captioned vertical clips that follow the speaker.

``transcript`` (``reelforge.transcription``) -> ``moments`` (sentences, topics, scores) ->
``faces`` (sampled frames: faces, mouths, cuts) -> ``reframe`` (a smooth crop path) ->
``render`` (one encode per clip). ``pipeline.extract_clips`` runs them; the front door's
``extract_clips`` verb, the CLI's ``reelforge clips`` and the "clips" job kind call it.
"""
