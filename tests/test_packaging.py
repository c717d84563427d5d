"""The package as others install it: pyproject.toml and requirements.txt name the same dependencies,
a fresh `pip install` (no checkout on the path) gives a working `deepad` command, its presets and a
dashboard that starts, and the editable install of `make` makes `import deepad` work anywhere."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


def _requirements_txt() -> dict[str, Requirement]:
    out = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            r = Requirement(line)
            out[r.name.lower()] = r
    return out


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_requirements_txt_and_pyproject_name_the_same_packages_and_versions():
    project = _pyproject()
    declared = [Requirement(r) for r in project["dependencies"]]
    declared += [Requirement(r) for extra in project.get("optional-dependencies", {}).values() for r in extra]
    by_name = {r.name.lower(): r for r in declared}
    pinned = _requirements_txt()
    assert sorted(by_name) == sorted(pinned), "requirements.txt and pyproject.toml list different packages"
    for name, r in pinned.items():
        assert (str(r.specifier), sorted(r.extras)) == (str(by_name[name].specifier), sorted(by_name[name].extras)), name
    runtime = {Requirement(r).name.lower() for r in project["dependencies"]}
    assert {"torch", "streamlit", "numpy"} <= runtime and "pytest" not in runtime  # tests are an extra
    assert project["scripts"]["deepad"] == "deepad.cli:console"
    import deepad

    assert deepad.__version__ == project["version"]


def test_the_licence_is_an_osi_licence_the_package_declares():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "Permission is hereby granted" in text
    project = _pyproject()
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]  # an SPDX expression


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A copy of the project's sources installed with pip into a fresh target folder (no
    dependencies: they come from this interpreter's environment, not from the checkout)."""
    tmp = tmp_path_factory.mktemp("pkg")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "runs", "__pycache__", ".pytest_cache", ".hypothesis", "build", "dist", "*.egg-info",
        "test-artifacts", "bench", "tests"))
    target = tmp / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                           "--no-index", "--target", str(target), str(src)],
                          capture_output=True, text=True, timeout=600, cwd=tmp)
    assert done.returncode == 0, done.stderr[-3000:]
    elsewhere = tmp / "elsewhere"  # not the checkout, not the sources
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PYTHONPATH=str(target), DEEPAD_RUNS_DIR=str(tmp / "runs"), DEEPAD_UMAP="off",
               HOME=str(tmp / "home"))
    return target, elsewhere, env


def test_a_fresh_install_gives_a_deepad_command_that_works_outside_the_checkout(installed):
    target, elsewhere, env = installed
    deepad = target / "bin" / "deepad"
    assert deepad.is_file()
    done = subprocess.run([str(deepad), "--help"], capture_output=True, text=True, env=env, cwd=elsewhere,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: deepad ") and "train" in done.stdout and "app" in done.stdout
    where = subprocess.run([sys.executable, "-c", "import deepad, deepad.resources as r; "
                            "print(deepad.__file__); print(r.dashboard_dir())"],
                           capture_output=True, text=True, env=env, cwd=elsewhere, timeout=120)
    module, dashboard = where.stdout.split()
    assert Path(module).is_relative_to(target) and not Path(module).is_relative_to(ROOT)
    assert (Path(dashboard) / "app.py").is_file() and (Path(dashboard) / "pages" / "screens" / "train.py").is_file()
    presets = subprocess.run([str(deepad), "presets"], capture_output=True, text=True, env=env, cwd=elsewhere,
                             timeout=120)
    assert presets.returncode == 0, presets.stderr
    names = {json.loads(line)["preset"] for line in presets.stdout.splitlines()}
    assert names == {p.stem for p in (ROOT / "deepad" / "detectors").glob("*/presets/*.json")}
    bad = subprocess.run([str(deepad), "train", "--method", "no-such"], capture_output=True, text=True, env=env,
                         cwd=elsewhere, timeout=120)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "no-such" in bad.stderr


def test_the_installed_dashboard_starts_and_draws_its_first_page(installed):
    target, elsewhere, env = installed
    port = _free_port()
    log = open(elsewhere / "server.log", "w")
    proc = subprocess.Popen([str(target / "bin" / "deepad"), "app", "--server.headless", "true",
                             "--server.port", str(port), "--server.address", "127.0.0.1"],
                            cwd=elsewhere, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    assert r.read().decode().strip() == "ok"
                    break
            except OSError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (elsewhere / "server.log").read_text()
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()
    # the installed app.py draws the Train page around its navigation, with the installed pages/
    draw = ("from streamlit.testing.v1 import AppTest; import sys\n"
            "at = AppTest.from_file(sys.argv[1], default_timeout=90); at.run()\n"
            "assert not at.exception, [e.value for e in at.exception]\n"
            "print(at.title[0].value)")
    app = target / "deepad" / "_dashboard" / "app.py"
    done = subprocess.run([sys.executable, "-c", draw, str(app)], capture_output=True, text=True, env=env,
                          cwd=elsewhere, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "Train a detector"


def test_import_deepad_works_from_any_folder_once_make_has_installed_the_package(tmp_path):
    from importlib import metadata

    try:
        dist = metadata.distribution("deepad")
    except metadata.PackageNotFoundError:
        pytest.skip("the package is not installed in this environment (`make test` installs it, editable)")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", "import deepad; print(deepad.__file__)"], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert dist.version == _pyproject()["version"]


def test_the_installed_dashboard_carries_every_module_of_its_pages(installed):
    """Every file of pages/ (the page scripts, what they share, their view models and figures) is in
    the package, and the modules the pages import load from it, not from a checkout."""
    target, elsewhere, env = installed
    dashboard = target / "deepad" / "_dashboard"
    shipped = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").rglob("*.py"))
    assert {"pages/views/train.py", "pages/figures/latent.py", "pages/ui/singletons.py"} <= set(shipped)
    assert [p for p in shipped if not (dashboard / p).is_file()] == []
    modules = [p[:-3].replace("/", ".").removesuffix(".__init__") for p in shipped if not p.startswith("pages/screens/")]
    load = ("import importlib, pathlib, sys\n"
            "root = sys.argv[1]; sys.path.insert(0, root)\n"
            "files = [importlib.import_module(m).__file__ for m in sys.argv[2:]]\n"
            "print(all(pathlib.Path(f).is_relative_to(root) for f in files))")
    done = subprocess.run([sys.executable, "-c", load, str(dashboard), *modules], capture_output=True, text=True,
                          env=env, cwd=elsewhere, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "True"
