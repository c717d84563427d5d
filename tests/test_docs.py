"""The docs site: `mkdocs build --strict` passes offline, with one page per detector generated from
its declaration and README and the API reference generated from the docstrings."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from deepad.detectors import registry

pytest.importorskip("mkdocs")
pytest.importorskip("mkdocstrings")
ROOT = Path(__file__).resolve().parent.parent


def build(config: Path, site: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_MKDOCS_2_WARNING": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
                          capture_output=True, text=True, env=env, timeout=300, cwd=config.parent)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    done = build(ROOT / "mkdocs.yml", out)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def test_the_site_builds_strictly_with_a_page_per_detector(site):
    import html

    for name, spec in registry.specs().items():
        page = html.unescape((site / "detectors" / name / "index.html").read_text())
        assert spec.title in page and spec.summary[:40] in page
        for field in spec.Config.model_fields:
            assert f"--{field.replace('_', '-')}" in page, (name, field)
        readme = (ROOT / "deepad" / "detectors" / spec.implementation.split(":")[0].split(".")[2] / "README.md")
        first_para = readme.read_text().split("\n\n")[1].split("\n")[0]
        assert html.unescape(first_para.replace("**", "").replace("*", ""))[:30] in page.replace("<strong>", "") \
            .replace("</strong>", "").replace("<em>", "").replace("</em>", ""), name
    index = (site / "index.html").read_text()
    assert all(f"detectors/{name}/" in index for name in registry.specs())  # in the navigation
    assert "fonts.googleapis.com" not in index  # the site opens offline


def test_the_api_reference_comes_from_the_docstrings(site):
    page = (site / "reference" / "index.html").read_text()
    for name in ("deepad.api.train", "deepad.api.load", "deepad.api.runs", "deepad.api.sweep", "deepad.api.Run",
                 "deepad.diagnose.diagnose_arrays", "deepad.export.export_runs"):
        assert f'id="{name}"' in page, name
    assert "background=True" in page  # train's docstring


def test_a_broken_link_fails_the_strict_build(tmp_path):
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    (tmp_path / "docs" / "index.md").write_text("# Home\n\nSee [the missing page](missing.md).\n")
    done = build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert done.returncode != 0 and "missing.md" in done.stderr
