"""Sphinx configuration of the skncvqvae documentation.

Build (from the repository root, after ``pip install -e ".[docs]"``)::

    SKNCVQVAE_DOCS_FAST=1 python -m sphinx -W -b html docs docs/_build/html

``SKNCVQVAE_DOCS_FAST=1`` makes every gallery example train for a few epochs
only (CI); without it the examples run at their full budget.
"""

from __future__ import annotations

import os
import warnings

# The examples run in this process: one torch thread (the build machine has 2
# cores shared with other jobs; the same seed gives the same numbers at the
# same thread count), matplotlib without a display. Set before torch loads.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import torch  # noqa: E402

import skncvqvae  # noqa: E402

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
FAST = os.environ.get("SKNCVQVAE_DOCS_FAST", "") not in ("", "0")

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
