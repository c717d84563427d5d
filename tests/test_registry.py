"""The detector registry: folders found by discovery, declarations read without PyTorch; a folder
is the only door of its method (a copy under a new name is a new method everywhere)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from deepad.data.setups import SetupConfig
from deepad.detectors import registry
from deepad.detectors.settings import settings
from deepad.errors import DeepADError
from deepad.presets import declared_presets, load_presets
from deepad.training.config import validate_config

ROOT = Path(__file__).resolve().parent.parent


def detector_folders() -> dict[str, Path]:
    """Every detector folder on the registry's search path (its own and $DEEPAD_DETECTORS_PATH's)."""
    import deepad.detectors as package

    registry.specs()  # sets the search path
    return {p.name: p for place in package.__path__ for p in Path(place).iterdir()
            if p.is_dir() and (p / "__init__.py").exists() and not p.name.startswith("_")}


def test_listing_the_detectors_does_not_import_torch():
    code = ("import sys, json\n"
            "from deepad.detectors import registry\n"
            "specs = registry.specs()\n"
            "plans = {n: s.planned_records({}) for n, s in specs.items()}\n"
            "print(json.dumps({'names': list(specs), 'torch': 'torch' in sys.modules}))\n")
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    if os.environ.get(registry.PATH_VARIABLE):
        env[registry.PATH_VARIABLE] = os.environ[registry.PATH_VARIABLE]
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["torch"] is False
    assert found["names"] == registry.names() and len(found["names"]) == len(detector_folders())


def test_every_detector_folder_is_found_named_after_it_and_names_its_implementation():
    folders = detector_folders()
    assert {spec.folder.name for spec in registry.specs().values()} == set(folders)
    for name, spec in registry.specs().items():
        assert name == spec.folder.name.replace("_", "-")  # the folder's name is the method's
        cls = registry.get(name)
        assert cls.spec is spec and cls.name == name and cls.Config is spec.Config
        assert spec.implementation.startswith(f"{spec.package}.") and cls.__module__.startswith(f"{spec.package}.")
        assert (spec.folder / "README.md").exists()


@pytest.mark.parametrize("name", registry.names())
def test_declarations_name_real_settings_and_presets(name):
    spec = registry.spec(name)
    fields = spec.Config.model_fields
    assert spec.title and spec.summary
    assert set(spec.explorable) <= set(fields)
    for setting, (low, high) in spec.explorable.items():  # the suggested range holds valid settings
        assert low < high
        spec.Config(**{setting: low})
        spec.Config(**{setting: high})
    for req in spec.requires:
        assert req.setup_field in SetupConfig.model_fields
        assert isinstance(req.minimum, int) or req.minimum in fields
    presets = load_presets()
    assert len(declared_presets(name, presets)) == len(spec.presets)  # files of its own folder
    for preset in declared_presets(name, presets):
        assert presets[preset].config["method"] == name, preset
    assert all(not k.startswith("val_") for k in spec.losses)
    # what the rest of the code reads from the declaration names what the method records ...
    plan = spec.planned_records({}) or {}
    assert set(plan) <= set(spec.phases), "every phase it records has its words"
    recorded = {"loss", *spec.losses, *spec.diagnostics}
    assert set(spec.progress) <= recorded and set(spec.headline) <= recorded
    assert spec.loss_caption
    # ... and its settings' form declarations and `when` rules name its own settings or set-up facts
    declared = settings(spec.Config)
    assert list(declared) == list(fields)
    for s in declared.values():
        for other, (op, values) in s.when:
            assert other in fields or other == "labelled", (s.name, other)
            assert op in ("in", "not") and values


@pytest.mark.parametrize("name", registry.names())
def test_the_form_and_the_sweeps_judge_when_a_setting_matters_by_the_same_rules(name):
    """The Train form greys a setting out exactly when a sweep over it is refused, for every value
    of the settings (and set-up facts) the method's rules depend on; a rule of one method never
    judges another's setting of the same name (Deep SVDD's `k`, `alpha`, `nu`)."""
    import itertools
    import typing

    from deepad.sweeps.ranges import irrelevant
    from pages.views.forms import field_specs, inactive_reason

    spec = registry.spec(name)
    fields = spec.Config.model_fields
    defaults = spec.Config().model_dump()
    conditions = sorted({other for s in settings(spec.Config).values() for other, _ in s.when})
    options = {}
    for other in conditions:
        ann = fields[other].annotation if other in fields else bool
        options[other] = (typing.get_args(ann) if typing.get_origin(ann) is typing.Literal
                          else (True, False) if ann is bool else (defaults[other], 0))
    for combo in itertools.product(*(options[c] for c in conditions)):
        chosen = dict(zip(conditions, combo))
        params = {k: v for k, v in chosen.items() if k in fields}
        facts = {k: v for k, v in chosen.items() if k not in fields}
        values = {**defaults, **params, **facts}
        for field in field_specs(spec.Config):
            form = inactive_reason(field, values)
            sweep = irrelevant(spec.Config, field.name, params, facts)
            assert (form is None) == (sweep is None), (field.name, chosen, form, sweep)
            if not field.when:
                assert form is None  # a setting without rules always matters


@pytest.mark.parametrize("name", registry.names())
def test_a_methods_presets_are_the_files_of_its_folder(name):
    spec = registry.spec(name)
    files = {f.stem for f in (spec.folder / "presets").glob("*.json")}
    presets = load_presets()
    assert {p.stem for p in presets.values() if p.config["method"] == name} == files
    assert set(spec.presets) <= files
    for stem in files:  # the folder says the method: a preset file does not repeat it
        assert "method" not in json.loads((spec.folder / "presets" / f"{stem}.json").read_text())["config"]


def test_unknown_method_lists_the_known_ones():
    with pytest.raises(DeepADError, match="unknown method 'nope'; choose one of: deep-svdd"):
        registry.spec("nope")


def test_every_declared_requirement_is_checked_before_anything_is_written():
    base = {"dataset": "blobs", "setup": {"normal": [0]}}
    for name, spec in registry.specs().items():
        if not spec.requires:
            validate_config({**base, "method": name})
            continue
        with pytest.raises(DeepADError, match=f"method {name} needs"):
            validate_config({**base, "method": name})
    with pytest.raises(DeepADError, match=r"needs 10 known normals.*n_adapt=10.*--known-normals"):
        validate_config({**base, "method": "rt-bigan", "setup": {"normal": [0], "known_normals": 4}})
    ok = validate_config({**base, "method": "rt-bigan", "params": {"n_adapt": 4, "task_size": 4},
                          "setup": {"normal": [0], "known_normals": 4}})
    assert ok.params["n_adapt"] == 4
    assert validate_config({**base, "method": "r2ad2", "setup": {"normal": [0], "known_anomalies": 0.05}})


# -- a copied folder is a new method everywhere, with no other file touched -------------------------------
COPIES = {"ae": "ae_copy", "r2ad2": "r2ad2_copy"}  # R2-AD2 needs known anomalies: its copy too


def copy_detectors(where: Path) -> dict[str, str]:
    """Copy detector folders under new names into `where` (outside the package), as they are.
    original method -> the copy's."""
    out = {}
    for folder, new in COPIES.items():
        shutil.copytree(ROOT / "deepad" / "detectors" / folder, where / new,
                        ignore=shutil.ignore_patterns("__pycache__"))
        out[folder.replace("_", "-")] = new.replace("_", "-")
    return out


@pytest.fixture
def copied(tmp_path, monkeypatch):
    """The copies on the registry's search path, for this process (`add_folder`)."""
    names = copy_detectors(tmp_path / "more_detectors")
    monkeypatch.setenv("DEEPAD_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("DEEPAD_UMAP", "off")
    registry.add_folder(tmp_path / "more_detectors")
    yield names
    registry.remove_folder(tmp_path / "more_detectors")
    assert not set(names.values()) & set(registry.names())
    for module in [m for m in sys.modules if m.split(".")[:3] in (["deepad", "detectors", c] for c in COPIES.values())]:
        del sys.modules[module]


def test_a_copied_folder_is_a_new_method_in_the_cli_the_presets_and_every_pages_method_list(copied, capsys):
    from streamlit.testing.v1 import AppTest

    from deepad import cli

    for original, copy in copied.items():
        spec = registry.spec(copy)
        assert spec.title == registry.spec(original).title and spec.needs_known_anomalies == (copy == "r2ad2-copy")
        assert registry.get(copy).__module__ == f"deepad.detectors.{copy.replace('-', '_')}.detector"
        assert registry.get(copy).spec is spec  # the copy's own class, not the original's
    # the command line: listed, its own settings (help and refusal), its presets
    assert cli.main(["methods"]) == 0
    listed = [json.loads(line)["method"] for line in capsys.readouterr().out.splitlines()]
    assert set(copied.values()) <= set(listed)
    assert cli.main(["train", "--method", "r2ad2-copy", "--help"]) == 0
    shown = capsys.readouterr().out
    assert "settings of method r2ad2-copy" in shown and "--n-snapshots" in shown and "--reg " not in shown
    assert cli.main(["train", "--method", "ae-copy", "--k", "5"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --k does not apply to method ae-copy; its settings are: --checkpoint, --rep-dim")
    assert cli.main(["presets"]) == 0
    presets = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    by_name = {p["preset"]: p["method"] for p in presets}  # the copy's presets, under its name
    assert by_name["r2ad2-semi"] == "r2ad2" and by_name["r2ad2-copy-r2ad2-semi"] == "r2ad2-copy"
    assert by_name["ae-one-vs-all"] == "ae" and by_name["ae-copy-ae-one-vs-all"] == "ae-copy"
    # the dashboard: Train offers both and fills the copy's known anomalies; Explore offers both
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.selectbox(key="train.method").options) == len(registry.names())  # (shown by their titles)
    for copy in copied.values():
        at.selectbox(key="train.method").set_value(copy).run()
        assert not at.exception and at.selectbox(key="train.method").value == copy
        assert f"train.p.{copy}.lr" in {w.key for w in at.selectbox} | {w.key for w in at.select_slider}
    assert at.number_input(key="train.known.mnist5k").value == 100  # R2-AD2's paper set-up, filled in
    assert not at.button(key="start-run").disabled
    at.switch_page("pages/screens/explore.py").run()
    assert not at.exception, [e.value for e in at.exception]
    explorable = [n for n, s in registry.specs().items() if s.explorable]
    assert len(at.selectbox(key="explore.method").options) == len(explorable)
    for copy in copied.values():
        at.selectbox(key="explore.method").set_value(copy).run()
        assert not at.exception and at.selectbox(key="explore.method").value == copy


def test_a_copied_folder_joins_the_tests_parametrized_over_the_registry(tmp_path):
    """The registry's parametrized tests run for the copies as for any method: declarations, the
    detector contract (fit, score, embed, save, load, stop), `train --method M` from the command
    line, and the Train form starting exactly the settings it shows (its run trains in a process of
    its own, which finds the copies through the variable it inherits)."""
    copy_detectors(tmp_path / "more_detectors")
    env = {**os.environ, registry.PATH_VARIABLE: str(tmp_path / "more_detectors"), "PYTHONPATH": str(ROOT),
           "OMP_NUM_THREADS": "1"}
    tests = ["tests/test_registry.py", "tests/test_contract.py",  # (R2-AD2's CLI run on MNIST-5k takes minutes)
             "tests/test_runs_cli.py::test_every_method_trains_from_train_method_alone[ae-copy]",
             "tests/test_app_train_form.py::test_the_started_run_has_exactly_the_settings_the_form_shows"]
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA",
                          "-k", "ae-copy or r2ad2-copy", *tests], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=1200)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    passed = [line for line in out.stdout.splitlines() if line.startswith("PASSED ")]
    for copy in ("ae-copy", "r2ad2-copy"):
        ran = {line.split("::")[1].split("[")[0] for line in passed if f"[{copy}" in line or f"-{copy}]" in line}
        assert {"test_declarations_name_real_settings_and_presets", "test_a_methods_presets_are_the_files_of_its_folder",
                "test_fit_score_embed_save_load", "test_the_stop_flag_cancels_training",
                "test_the_started_run_has_exactly_the_settings_the_form_shows"} <= ran, (copy, passed)
    assert any("test_every_method_trains_from_train_method_alone[ae-copy]" in line for line in passed)
