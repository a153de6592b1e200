"""Sphinx configuration of the skncvqvae documentation.

Build (from the repository root, after ``pip install -e ".[docs]"``)::

    python -m sphinx -W -b html docs docs/_build/html

The gallery's pages are not computed by this build: ``docs/auto_examples/``
holds each example's output, rendered at the package defaults by
``bash docs/build_gallery.sh`` (which sets ``SKNCVQVAE_DOCS_RENDER=1`` and
runs the examples whose source changed). Any other build stops with a message
when an example changed since its stored output (``docs/check_gallery.py``),
instead of training its models.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

# When the gallery is rendered (docs/build_gallery.sh), the examples run in this
# process: torch uses OMP_NUM_THREADS threads (the script sets 2, the 2 cores the
# run times on the pages are quoted for; 1 otherwise), matplotlib has no display.
# Set before torch loads.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
# The examples share this process: after one runs aeon's MiniRocket (numba), numba's
# OpenMP layer would slow every later multi-threaded torch fit 10-25x (docs/scaling.rst).
os.environ.setdefault("NUMBA_THREADING_LAYER", "workqueue")

import torch  # noqa: E402
from sphinx.errors import ConfigError  # noqa: E402

import skncvqvae  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_gallery import stale_examples, stale_message  # noqa: E402

torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

# -- project -----------------------------------------------------------------
project = "skncvqvae"
author = "skncvqvae developers"
copyright = "skncvqvae developers"
release = skncvqvae.__version__
version = ".".join(release.split(".")[:2])

# -- general -----------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = [
    "_build",
    "Thumbs.db",
    ".DS_Store",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "sg_execution_times.rst",
]
templates_path = ["_templates"]
default_role = "literal"

# -- autodoc / autosummary / numpydoc -------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True}
autodoc_typehints = "none"  # numpydoc's "Parameters" sections carry the types
# Members are listed by the class template (autosummary tables); numpydoc
# would list them again.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# -- MyST (docs/model.md and docs/benchmarks.md, included as they are) ------------
myst_heading_anchors = 3

# -- sphinx-gallery ----------------------------------------------------------------
RENDER = os.environ.get("SKNCVQVAE_DOCS_RENDER", "") not in ("", "0")
if not RENDER and (_stale := stale_examples()):
    raise ConfigError(stale_message(_stale))

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "backreferences_dir": "generated/backreferences",
    "doc_module": ("skncvqvae",),
    "capture_repr": (),
    "abort_on_example_error": True,
    "download_all_examples": False,
    "show_signature": False,
    "remove_config_comments": True,
    "min_reported_time": 1,
}

# aeon and numba report deprecations of their own on import; they are not ours.
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"aeon\..*")

# -- HTML ------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skncvqvae {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "header_links_before_dropdown": 7,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_context = {"default_mode": "light"}


# Methods inherited from scikit-learn (``set_output``, ``get_metadata_routing``,
# the generated ``set_{method}_request``, ``ClassifierMixin.score``) whose
# docstrings point into scikit-learn's own user guide (``:ref:`` labels that do
# not exist here) are left to scikit-learn's documentation; ``get_params``,
# ``set_params``, ``fit_transform`` and the package's own methods are listed.


def _skip_sklearn_guide_members(app, what, name, obj, skip, options):
    if what != "class":
        return None
    module = getattr(obj, "__module__", None) or ""
    if module.startswith("sklearn.") and ":ref:`" in (getattr(obj, "__doc__", None) or ""):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_sklearn_guide_members)
