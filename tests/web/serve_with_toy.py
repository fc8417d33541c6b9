"""``reelforge serve`` with the toy kind of ``toykind.py`` plugged in: the kind registered in
:mod:`reelforge.kinds` and its route added to the app, nothing else changed.

Run as ``python tests/web/serve_with_toy.py serve --port N --open`` (arguments as the CLI's)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import toykind  # noqa: E402

from reelforge import kinds  # noqa: E402
from reelforge.cli import main  # noqa: E402
from reelforge.service.api import app as app_module  # noqa: E402

kinds.register("toy", "toykind:TOY")
kinds.register("ranks", "toykind:RANKS")
_create_app = app_module.create_app


def create_app_with_toy(*args: Any, **kwargs: Any) -> Any:
    app = _create_app(*args, **kwargs)
    app.include_router(toykind.router)
    app.include_router(toykind.ranks_router)
    return app


app_module.create_app = create_app_with_toy
sys.exit(main(sys.argv[1:]))
