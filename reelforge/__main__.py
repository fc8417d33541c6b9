"""``python -m reelforge ...``: the same command line as ``reelforge ...``."""

from reelforge.cli import main

raise SystemExit(main())
