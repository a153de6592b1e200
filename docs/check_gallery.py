"""Check that the stored gallery outputs belong to the current examples.

The gallery's pages (``docs/auto_examples/``: the executed outputs, figures and
run times of ``examples/plot_*.py``) are rendered once at the package defaults
by ``bash docs/build_gallery.sh`` and kept in the repository. sphinx-gallery
reuses an example's stored output as long as the md5 sum it recorded
(``docs/auto_examples/<name>.py.md5``) matches the example's source; otherwise
it would run the example again, at the defaults, inside the documentation build.

``python docs/check_gallery.py`` exits with status 1 and says how to
regenerate when an example is new or changed since its output was stored. The
documentation build runs the same check (``docs/conf.py``) unless it is the
rendering build itself (``SKNCVQVAE_DOCS_RENDER=1``).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
EXAMPLES = DOCS.parent / "examples"
GALLERY = DOCS / "auto_examples"
REGENERATE = "bash docs/build_gallery.sh"


def source_md5(path: Path) -> str:
    """The md5 sum sphinx-gallery records for an example (text mode, universal newlines)."""
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    return hashlib.md5(text.encode("utf-8", errors="surrogateescape")).hexdigest()


def stale_examples(examples: Path = EXAMPLES, gallery: Path = GALLERY) -> list[str]:
    """Names of the examples whose stored output is missing or older than their source."""
    stale = []
    for source in sorted(examples.glob("plot_*.py")):
        stored = gallery / f"{source.name}.md5"
        page = gallery / f"{source.stem}.rst"
        if (
            not stored.is_file()
            or not page.is_file()
            or stored.read_text().strip() != source_md5(source)
        ):
            stale.append(source.name)
    return stale


def stale_message(names: list[str]) -> str:
    """What to tell the person whose build found stale gallery outputs."""
    return (
        "the stored gallery output is missing or older than "
        + ", ".join(f"examples/{name}" for name in names)
        + ". Render the changed examples at the package defaults with `"
        + REGENERATE
        + "` (it runs only those) and commit docs/auto_examples/."
    )


def main() -> int:
    names = stale_examples()
    if names:
        print("check_gallery: " + stale_message(names), file=sys.stderr)
        return 1
    print(
        f"check_gallery: the stored outputs of all {len(list(EXAMPLES.glob('plot_*.py')))} examples are current"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
