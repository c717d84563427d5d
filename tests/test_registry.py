"""The detector registry: folders found by discovery, declarations read without PyTorch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from deepad.data.setups import SetupConfig
from deepad.detectors import registry
from deepad.errors import DeepADError
from deepad.presets import load_presets
from deepad.training.config import validate_config

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {"deep_svdd", "deep_svdd_vae", "r2ad2", "anoean", "ae", "egbad", "rt_bigan", "iforest", "ocsvm", "kde"}


def test_listing_the_detectors_does_not_import_torch():
    code = ("import sys, json\n"
            "from deepad.detectors import registry\n"
            "specs = registry.specs()\n"
            "plans = {n: s.planned_records({}) for n, s in specs.items()}\n"
            "print(json.dumps({'names': list(specs), 'torch': 'torch' in sys.modules}))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["torch"] is False
    assert found["names"] == registry.names() and len(found["names"]) == len(FOLDERS)


def test_every_detector_folder_is_found_and_names_its_implementation():
    folders = {p.name for p in (ROOT / "deepad" / "detectors").iterdir()
               if p.is_dir() and (p / "__init__.py").exists() and not p.name.startswith("_")}
    assert folders == FOLDERS
    for name, spec in registry.specs().items():
        cls = registry.get(name)
        assert cls.spec is spec and cls.name == name and cls.Config is spec.Config
        assert spec.implementation.startswith(f"deepad.detectors.{cls.__module__.split('.')[2]}.")
        assert (ROOT / "deepad" / "detectors" / cls.__module__.split(".")[2] / "README.md").exists()


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
    for preset in spec.presets:
        assert presets[preset].config["method"] == name, preset
    assert all(not k.startswith("val_") for k in spec.losses)


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
