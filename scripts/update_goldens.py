#!/usr/bin/env python3
"""Rewrite the golden files of tests/test_render_plan.py (render plans, a planned timeline)
from the code as it is now.

Run it after an intended change to the render compile step, then review the change with
``git diff tests/golden`` before committing it:

    .venv/bin/python scripts/update_goldens.py            # rewrite every golden
    .venv/bin/python scripts/update_goldens.py --check    # only report which ones differ
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import test_render_plan as cases  # noqa: E402  (the cases live beside the test that reads them)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Rewrite the golden files of the tests.")
    parser.add_argument("--check", action="store_true", help="report differences, write nothing")
    args = parser.parse_args(argv)
    cases.GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, produce in cases.GOLDENS.items():
        with tempfile.TemporaryDirectory(prefix="reelforge-golden-") as tmp:
            text = produce(Path(tmp))
        golden = cases.GOLDEN_DIR / name
        old = golden.read_text(encoding="utf-8") if golden.is_file() else None
        if old == text:
            print(f"unchanged  {golden.relative_to(ROOT)}")
            continue
        changed.append(name)
        if args.check:
            print(f"differs    {golden.relative_to(ROOT)}")
        else:
            golden.write_text(text, encoding="utf-8")
            print(f"{'updated' if old is not None else 'created'}    {golden.relative_to(ROOT)}")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
