"""The package's shape: its packages in layers, each importing only its own layer and those below;
no import cycle inside `deepad/`; a detector's folder imported by nothing outside it (the registry
reads it); no module over the size limit; and a detector folder dropped into a copy of the package
appears in the CLI, the dashboard's method list and trains, with no other file touched."""

from __future__ import annotations

import ast
import functools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "deepad"


# -- import cycles ---------------------------------------------------------------------------------
OUTSIDE = ("pages", "app", "serve", "bench", "tests")  # the project's other top-level code


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(package: Path) -> dict[str, set[str]]:
    """module -> the `deepad` modules it imports, anywhere in the file: at the top or inside a
    function (a deferred import is still a dependency: it only hides a cycle until the function
    runs), and inside `if TYPE_CHECKING:` (an import for type hints still says that one module
    needs the other; leaving them out would hide a tangle, not remove it). `from a import b` counts
    as importing `a.b` when that is a module, else `a`. Imports of other top-level packages (pages,
    bench, tests) are kept under their own names, so a layer rule can refuse them."""
    root = package.parent
    modules = {module_name(p, root): p for p in package.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_pkg = path.name == "__init__.py"
        tree = ast.parse(path.read_text(), str(path))
        deps: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: resolve against this module's package
                    base = name.split(".") if is_pkg else name.split(".")[:-1]
                    base = base[:len(base) - node.level + 1]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in modules else mod for a in node.names]
            else:
                continue
            for t in targets:
                if t.split(".")[0] in OUTSIDE:
                    deps.add(t.split(".")[0])
                    continue
                while t and t not in modules:  # `import deepad.data.setups` -> that module
                    t = t.rpartition(".")[0]
                if t and t.startswith("deepad") and t != name:
                    deps.add(t)
        graph[name] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def parents(name: str) -> set[str]:
    """Importing a.b.c runs a/__init__ and a/b/__init__ first: those edges are Python's, not ours."""
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def test_the_cycle_finder_finds_a_cycle(tmp_path):
    pkg = tmp_path / "deepad"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from deepad.sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from deepad import a\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from deepad import d\n")
    (pkg / "d.py").write_text("from deepad import c\n")
    assert cycles(import_graph(pkg)) == [["deepad.a", "deepad.sub.b"], ["deepad.c", "deepad.d"]]


@functools.lru_cache(maxsize=1)
def package_graph() -> dict[str, frozenset[str]]:
    return {m: frozenset(deps) for m, deps in import_graph(PACKAGE).items()}


def test_no_import_cycles_inside_deepad():
    graph = package_graph()
    # a package's __init__ importing its own submodules is how packages work, not a cycle
    graph = {m: {d for d in deps if d not in parents(m)} for m, deps in graph.items()}
    found = cycles(graph)
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


# -- layers -----------------------------------------------------------------------------------------
# deepad's top-level modules and packages, lowest first. A module may import its own layer and the
# layers below it, never one above: the arrows all point down, so each layer can be read, tested and
# replaced knowing only what lies under it. A new top-level module or package takes its place here.
LAYERS: tuple[tuple[str, frozenset[str]], ...] = tuple((title, frozenset(names)) for title, names in (
    ("foundations: errors, config base, checks, metrics, networks, file writes",
     {"errors", "configbase", "validation", "resources", "metrics", "diagnostics", "nets"}),
    ("data: datasets, set-ups, splits, uploads", {"data"}),
    ("detectors: the specs, the registry and the methods", {"detectors"}),
    ("runs: a run's records, folder and files", {"runs", "embedding"}),
    ("training: the run config, training a run, presets", {"training", "presets"}),
    ("uses of runs: sweeps, scoring, reproductions, figures, reports",
     {"sweeps", "scoring", "reproduce", "figures", "diagnose", "export", "warmup", "views"}),
    ("the command line", {"cli"}),
    ("the Python API", {"api"}),
    ("the entry points", {"__main__", "deepad"}),
))
# code not yet moved to the layer it belongs in: module -> (the higher layer it still imports, why)
PENDING: dict[str, tuple[str, str]] = {}


def layer_of(module: str) -> str:
    """deepad.data.setups -> "data"; deepad -> "deepad"; deepad.__main__ -> "__main__"."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def upward_imports(graph: dict[str, set[str]], layers=LAYERS, pending=None) -> list[str]:
    rank = {name: i for i, (_, names) in enumerate(layers) for name in names}
    short = [title.split(":")[0] for title, _ in layers]
    found = []
    for module, deps in sorted(graph.items()):
        for dep in sorted(deps):
            if dep in OUTSIDE:
                found.append(f"{module} imports {dep} (outside the library)")
            elif dep not in parents(module) and rank[layer_of(dep)] > rank[layer_of(module)]:
                if (pending or {}).get(module, ("",))[0] != short[rank[layer_of(dep)]]:
                    found.append(f"{module} ({short[rank[layer_of(module)]]}) imports {dep} "
                                 f"({short[rank[layer_of(dep)]]})")
    return found


def test_the_layer_check_finds_an_import_that_runs_up(tmp_path):
    pkg = tmp_path / "deepad"
    (pkg / "data").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from deepad import cli\n")  # the package's door: the top layer
    (pkg / "data" / "__init__.py").write_text("")
    (pkg / "data" / "setups.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                            "    from deepad.training import config\n")
    (pkg / "training").mkdir()
    (pkg / "training" / "__init__.py").write_text("")
    (pkg / "training" / "config.py").write_text("from deepad.data import setups\nimport pages.train\n")
    (pkg / "cli.py").write_text("import deepad.training.config\n")
    assert upward_imports(import_graph(pkg)) == [
        "deepad.data.setups (data) imports deepad.training.config (training)",
        "deepad.training.config imports pages (outside the library)"]


def test_every_top_level_module_has_a_layer():
    named = {name for _, names in LAYERS for name in names}
    assert len(named) == sum(len(names) for _, names in LAYERS), "a name in two layers"
    missing = sorted({layer_of(m) for m in package_graph()} - named)
    assert not missing, f"give these a layer in LAYERS: {missing}"


def test_no_import_runs_up_the_layers():
    found = upward_imports(package_graph(), pending=PENDING)
    assert not found, "imports that run up the layers:\n" + "\n".join(found)



def detector_folder_imports(graph: dict[str, set[str]], package: Path = PACKAGE) -> list[str]:
    """Imports of a detector's folder from outside it: the registry finds a folder and reads it
    through its spec, so nothing else (another detector, the CLI, the training) names one."""
    folders = {p.name for p in (package / "detectors").iterdir()
               if p.is_dir() and (p / "__init__.py").exists() and not p.name.startswith("_")}
    found = []
    for module, deps in sorted(graph.items()):
        own = module.split(".")[2] if module.startswith("deepad.detectors.") else None
        for dep in sorted(deps):
            parts = dep.split(".")
            if len(parts) > 2 and parts[1] == "detectors" and parts[2] in folders and parts[2] != own:
                found.append(f"{module} imports {dep}")
    return found


def test_the_folder_check_finds_a_detector_that_imports_another(tmp_path):
    pkg = tmp_path / "deepad"
    for folder in ("detectors", "detectors/one", "detectors/two", "detectors/_shared"):
        (pkg / folder).mkdir(parents=True)
        (pkg / folder / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "detectors" / "one" / "detector.py").write_text("from deepad.detectors.one import x\n"
                                                           "from deepad.detectors._shared import y\n")
    (pkg / "detectors" / "two" / "detector.py").write_text("from deepad.detectors.one import detector\n")
    (pkg / "cli.py").write_text("import deepad.detectors.two\n")
    assert detector_folder_imports(import_graph(pkg), pkg) == [
        "deepad.cli imports deepad.detectors.two", "deepad.detectors.two.detector imports deepad.detectors.one.detector"]


def test_no_detector_folder_is_imported_from_outside_it():
    found = detector_folder_imports(package_graph())
    assert not found, "detector folders are read through the registry only:\n" + "\n".join(found)

# -- module size ------------------------------------------------------------------------------------
MAX_MODULE_LINES = 400  # a module a newcomer can read in one sitting; split a larger one by responsibility


def oversized(package: Path, limit: int = MAX_MODULE_LINES) -> list[str]:
    return sorted(f"{p.relative_to(package.parent)} ({n} lines)" for p in package.rglob("*.py")
                  if (n := len(p.read_text().splitlines())) > limit)


def test_the_size_check_finds_a_long_module(tmp_path):
    pkg = tmp_path / "deepad"
    pkg.mkdir()
    (pkg / "short.py").write_text("x = 1\n" * MAX_MODULE_LINES)
    (pkg / "long.py").write_text("x = 1\n" * (MAX_MODULE_LINES + 1))
    assert oversized(pkg) == [f"deepad/long.py ({MAX_MODULE_LINES + 1} lines)"]


def test_no_module_inside_deepad_is_over_the_size_limit():
    found = oversized(PACKAGE)
    assert not found, f"over {MAX_MODULE_LINES} lines: " + ", ".join(found)


# -- a detector folder dropped in ----------------------------------------------------------------------
TOY = '''"""A throw-away detector: the distance to the mean of the training data."""

from pydantic import Field

from deepad.detectors.spec import DetectorConfig, DetectorSpec


class MeanDistanceConfig(DetectorConfig):
    power: float = Field(2.0, gt=0, le=8, description="exponent of the distance")


SPEC = DetectorSpec(name="mean-distance", title="Distance to the mean",
                    summary="How far a sample lies from the training mean.", Config=MeanDistanceConfig,
                    implementation=f"{__name__}.detector:MeanDistance",
                    records=lambda cfg: {"train": 1}, order=50)
'''
TOY_IMPL = '''import numpy as np

from deepad.detectors.base import Detector
from deepad.detectors.mean_distance import SPEC


class MeanDistance(Detector):
    spec = SPEC

    def fit(self, train, val=None, on_epoch=None, should_stop=None):
        self._check_stop(should_stop)
        flat = train.x[train.known_label != -1].reshape(int(np.sum(train.known_label != -1)), -1)
        self.mean = flat.mean(axis=0)
        self._threshold = float(np.percentile(self.score(flat), 95))
        if on_epoch:
            on_epoch({"phase": "train", "epoch": 1, "seconds": 0.0}, None)
        return self

    def score(self, x):
        return (np.abs(x.reshape(len(x), -1) - self.mean) ** self.config.power).sum(axis=1)

    def embed(self, x):
        return (x.reshape(len(x), -1) - self.mean).astype(np.float32)

    def state(self):
        return {"mean": self.mean}

    def load_state(self, state):
        self.mean = np.asarray(state["mean"])
'''


DASHBOARD = """
import json
from streamlit.testing.v1 import AppTest
at = AppTest.from_file("app.py", default_timeout=120)
at.run()  # the address / opens Train
picker = at.selectbox(key="train.method")
offered = "Distance to the mean" in picker.options  # shown by title
picker.set_value("mean-distance").run()
widgets = sorted(w.key.rsplit(".", 1)[1] for w in at.number_input if w.key.startswith("train.p.mean-distance."))
print(json.dumps({"offered": offered, "widgets": widgets, "errors": [e.value for e in at.exception]}))
"""


def test_a_detector_folder_dropped_in_appears_everywhere(tmp_path):
    copy = tmp_path / "project"
    for part in ("deepad", "pages", "assets"):
        shutil.copytree(ROOT / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "app.py", copy / "app.py")
    folder = copy / "deepad" / "detectors" / "mean_distance"
    folder.mkdir()
    (folder / "__init__.py").write_text(TOY)
    (folder / "detector.py").write_text(TOY_IMPL)
    runs = tmp_path / "runs"
    env = {**os.environ, "PYTHONPATH": str(copy), "OMP_NUM_THREADS": "1", "DEEPAD_RUNS_DIR": str(runs),
           "DEEPAD_UMAP": "off"}

    def run(*args: str, code: str | None = None) -> subprocess.CompletedProcess:
        argv = [sys.executable, "-c", code] if code else [sys.executable, "-m", "deepad", *args]
        return subprocess.run(argv, cwd=copy, env=env, capture_output=True, text=True, timeout=300)

    listed = run("methods")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {"method": "mean-distance", "title": "Distance to the mean",
            "summary": "How far a sample lies from the training mean."} in rows

    # the Train page offers it and draws its settings
    page = run(code=DASHBOARD)
    assert page.returncode == 0, page.stderr
    assert json.loads(page.stdout.strip().splitlines()[-1]) == {"offered": True, "widgets": ["power"],
                                                                "errors": []}

    trained = run("train", "--dataset", "blobs", "--normal", "0", "--method", "mean-distance",
                  "--power", "1", "--runs-dir", str(runs))
    assert trained.returncode == 0, trained.stderr
    out = json.loads(trained.stdout.strip().splitlines()[-1])
    assert out["state"] == "finished" and out["method"] == "mean-distance" and 0.5 < out["auc"] <= 1, out
    assert json.loads((Path(out["path"]) / "config.json").read_text())["params"] == {"power": 1.0}


# -- the dashboard's pages ---------------------------------------------------------------------------
def test_pages_are_registered_once_and_the_legacy_router_finds_none():
    from pages import PAGES

    # Streamlit's older multipage routing lists and routes to every `pages/*.py` (the top level
    # only, `__init__.py` and dot-files excepted: streamlit.runtime.scriptrunner's _mpa_v1)
    legacy = [p.name for p in (ROOT / "pages").glob("*.py") if p.name != "__init__.py" and not p.name.startswith(".")]
    assert legacy == []
    scripts = {f"pages/screens/{p.name}" for p in (ROOT / "pages" / "screens").glob("*.py") if p.name != "__init__.py"}
    assert {p.path for p in PAGES} == scripts
    assert len({p.url for p in PAGES}) == len(PAGES)


# -- test module size ----------------------------------------------------------------------------------
MAX_TEST_MODULE_LINES = 600  # one subject a module; a detector's own tests in tests/detectors/test_<name>.py


def test_no_test_module_is_over_its_size_limit():
    found = oversized(ROOT / "tests", MAX_TEST_MODULE_LINES)
    assert not found, f"over {MAX_TEST_MODULE_LINES} lines (split it by subject, moving whole tests): " + ", ".join(found)

