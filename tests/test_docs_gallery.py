"""The stored gallery outputs (docs/auto_examples/) and the check that keeps them current."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECK = ROOT / "docs" / "check_gallery.py"


def _load_check():
    spec = importlib.util.spec_from_file_location("check_gallery", CHECK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def gallery_copy(tmp_path):
    """A copy of the examples and of their stored outputs (sources, md5 sums, pages)."""
    examples = tmp_path / "examples"
    gallery = tmp_path / "auto_examples"
    shutil.copytree(ROOT / "examples", examples)
    gallery.mkdir()
    for stored in (ROOT / "docs" / "auto_examples").glob("plot_*"):
        if stored.suffix in (".md5", ".rst"):
            shutil.copy(stored, gallery / stored.name)
    return examples, gallery


def test_every_example_has_a_current_stored_output():
    """What CI's documentation build needs: no example changed since it was rendered."""
    check = _load_check()
    assert check.stale_examples() == [], check.stale_message(check.stale_examples())
    names = sorted(p.name for p in (ROOT / "examples").glob("plot_*.py"))
    assert len(names) == 7


def test_the_md5_is_sphinx_gallerys(gallery_copy):
    from sphinx_gallery.utils import get_md5sum

    check = _load_check()
    examples, _ = gallery_copy
    for source in examples.glob("plot_*.py"):
        assert check.source_md5(source) == get_md5sum(source, mode="t")


def test_a_changed_example_is_stale_and_the_message_says_how_to_regenerate(gallery_copy):
    check = _load_check()
    examples, gallery = gallery_copy
    assert check.stale_examples(examples, gallery) == []
    source = examples / "plot_3_oversampling.py"
    source.write_text(source.read_text() + "\nprint('changed')\n")
    stale = check.stale_examples(examples, gallery)
    assert stale == ["plot_3_oversampling.py"]
    message = check.stale_message(stale)
    assert "examples/plot_3_oversampling.py" in message
    assert "bash docs/build_gallery.sh" in message
    assert "commit docs/auto_examples/" in message


def test_a_new_example_or_a_missing_page_is_stale(gallery_copy):
    check = _load_check()
    examples, gallery = gallery_copy
    shutil.copy(examples / "plot_1_pipeline_classifier.py", examples / "plot_8_new.py")
    (gallery / "plot_2_grid_search.rst").unlink()
    assert check.stale_examples(examples, gallery) == ["plot_2_grid_search.py", "plot_8_new.py"]


def test_the_script_exits_1_on_a_stale_gallery(tmp_path):
    """``python docs/check_gallery.py`` in a copy of the docs whose one example changed."""
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(CHECK, docs / "check_gallery.py")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    shutil.copytree(ROOT / "docs" / "auto_examples", docs / "auto_examples")
    run = lambda: subprocess.run(  # noqa: E731
        [sys.executable, str(docs / "check_gallery.py")], capture_output=True, text=True
    )
    assert run().returncode == 0
    source = tmp_path / "examples" / "plot_5_multivariate.py"
    source.write_text(source.read_text().replace("random_state=0", "random_state=1", 1))
    result = run()
    assert result.returncode == 1
    assert "examples/plot_5_multivariate.py" in result.stderr
    assert "bash docs/build_gallery.sh" in result.stderr


def test_the_documentation_build_stops_on_a_stale_gallery(tmp_path):
    """docs/conf.py raises sphinx's ConfigError (so ``sphinx -W`` stops before running any
    example) unless it is the rendering build (``SKNCVQVAE_DOCS_RENDER=1``)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("conf.py", "check_gallery.py"):
        shutil.copy(ROOT / "docs" / name, docs / name)
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    shutil.copytree(ROOT / "docs" / "auto_examples", docs / "auto_examples")
    source = tmp_path / "examples" / "plot_4_token_vocabulary.py"
    source.write_text(source.read_text() + "\n")
    code = f"import runpy; runpy.run_path({str(docs / 'conf.py')!r})"
    env = {k: v for k, v in os.environ.items() if k != "SKNCVQVAE_DOCS_RENDER"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode != 0
    assert "ConfigError" in result.stderr
    assert "examples/plot_4_token_vocabulary.py" in result.stderr
    env["SKNCVQVAE_DOCS_RENDER"] = "1"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
