"""The docs: the README a newcomer finishes (its two commands first, the ones `.ci/run` and the Makefile
run, its links and screenshot there), the docs site (`mkdocs build --strict` passes offline, with one
page per detector generated from its declaration and README and the API reference generated from the
docstrings), and every file the docs name exists."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from deepad.detectors import registry

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"


def needs_mkdocs():
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")


def build(config: Path, site: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_MKDOCS_2_WARNING": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
                          capture_output=True, text=True, env=env, timeout=300, cwd=config.parent)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    needs_mkdocs()
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
    for name in ("deepad.api.train", "deepad.api.load", "deepad.api.list_runs", "deepad.api.sweep", "deepad.api.Run",
                 "deepad.diagnose.diagnose_arrays", "deepad.export.export_runs"):
        assert f'id="{name}"' in page, name
    assert "background=True" in page  # train's docstring


def test_a_broken_link_fails_the_strict_build(tmp_path):
    needs_mkdocs()
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    (tmp_path / "docs" / "index.md").write_text("# Home\n\nSee [the missing page](missing.md).\n")
    done = build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert done.returncode != 0 and "missing.md" in done.stderr


# -- the README ------------------------------------------------------------------------------------
def test_the_readme_opens_with_the_two_commands_that_ci_and_the_makefile_run():
    text = README.read_text()
    assert len(text.splitlines()) <= 150, "the README is for a newcomer: the rest belongs in docs/"
    first_block = re.search(r"```bash\n(.*?)```", text, re.S)
    lines = [line for line in text.splitlines() if line.strip()]
    assert first_block and lines[0].startswith("# ") and lines[1] == "```bash", "the two commands come first"
    commands = [line.split("#")[0].strip() for line in first_block.group(1).strip().splitlines()]
    assert commands == ["make run", "make test"]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert [line.strip() for line in ci if line.strip() and not line.lstrip().startswith("#")][-1] == "make test"
    makefile = (ROOT / "Makefile").read_text()
    for target in ("run", "test"):
        body = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", makefile, re.M)
        assert body, f"the Makefile has no {target} target"
    assert "-m pytest" in re.search(r"^test:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    assert "serve.py" in re.search(r"^run:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)


def test_the_readmes_links_and_screenshot_are_there():
    text = README.read_text()
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    assert any(t.endswith(".png") for t in targets), "the README shows a screenshot"
    for target in targets:
        if "://" in target:
            continue
        path = ROOT / target
        assert path.exists(), f"README links to {target}, which does not exist"
    shot = next(ROOT / t for t in targets if t.endswith(".png"))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000  # a real image
    for page in re.findall(r"docs/[\w/-]+\.md", text):  # every page it links is in the site's navigation
        assert page.removeprefix("docs/") in (ROOT / "mkdocs.yml").read_text(), page


# -- the pages name files that exist ----------------------------------------------------------------
PATH_IN_TEXT = re.compile(r"(?<![\w/.])((?:deepad|pages|tests|bench|docs|assets)/[\w./<>-]*[\w>])")


def test_every_file_the_docs_name_exists():
    """A file or folder named in the README or a docs page (`deepad/...`, `pages/...`, `tests/...`,
    `bench/...`) exists: a page that names a moved module is out of date."""
    texts = [README, *sorted(DOCS.rglob("*.md"))]
    missing = []
    for page in texts:
        for name in PATH_IN_TEXT.findall(page.read_text()):
            if "<" in name:  # a pattern such as deepad/detectors/<name>/ or tests/detectors/test_<name>.py
                name = name.split("<")[0].rpartition("/")[0]
            if name.startswith("deepad/_dashboard"):  # where an installed package carries the dashboard
                continue
            if not (ROOT / name.rstrip(".")).exists():
                missing.append(f"{page.relative_to(ROOT)}: {name}")
    assert not missing, "pages name files that do not exist:\n" + "\n".join(missing)


# -- one page per detector, generated -----------------------------------------------------------------
def load_hooks():
    pytest.importorskip("mkdocs")
    spec = importlib.util.spec_from_file_location("docs_hooks", DOCS / "hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    return hooks


def test_every_registered_detector_gets_a_current_page_and_a_place_in_the_navigation():
    """The pages are generated from the folders at every build (nothing to fall out of date): one
    per registered detector, carrying what its declaration says now and its README's text."""
    hooks = load_hooks()
    nav = [{"Home": "index.md"}, {"Detectors": []}]
    hooks.on_config({"nav": nav})
    listed = [path for item in nav[1]["Detectors"] for path in item.values()]
    assert listed == [f"detectors/{name}.md" for name in registry.specs()]
    for name, spec in registry.specs().items():
        page = hooks.detector_page(spec)
        assert page.startswith(f"# {spec.title} (`{name}`)") and spec.summary in page
        defaults = spec.Config().model_dump()
        for field, info in spec.Config.model_fields.items():
            assert f"| `--{field.replace('_', '-')}` | `{hooks._cell(defaults[field])}` |" in page, (name, field)
        for loss in spec.losses:
            assert f"| `{loss}` |" in page, (name, loss)
        readme = ROOT / "deepad" / "detectors" / spec.implementation.split(":")[0].split(".")[2] / "README.md"
        body = readme.read_text().split("\n", 1)[1].replace("\n## ", "\n### ")
        assert body in page, f"{name}'s page does not carry its README as it is now"
