"""The Train page's form through Streamlit's AppTest: the widgets generated from each detector's config
only offer valid values, settings that cannot matter are greyed out with the reason, a bad value blocks
Start with the command line's message, presets and Reset fill the form, and the run that starts has
exactly the settings the form shows (the exported command line trains the same config)."""

from __future__ import annotations

import json
import shlex

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from pages.views.forms import field_specs, FieldSpec, params_from_widgets
from pages.views.train import unmet_requirements  # noqa: E402
from deepad.cli import train_command  # noqa: E402
from deepad.detectors import registry  # noqa: E402
from deepad.training.config import validate_config  # noqa: E402
from tests.apptools import manager_of, open_page, texts  # noqa: E402


def test_a_set_up_the_data_cannot_supply_is_refused_on_train_and_nothing_is_written(empty_env):
    at = open_page("pages/screens/train.py")
    at.selectbox(key="train.dataset").set_value("digits").run()
    at.number_input(key="train.known.digits").set_value(5000).run()
    at.button(key="start-run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("known_anomalies=5000: only" in e.value for e in at.error), [e.value for e in at.error]
    assert at.title[0].value == "Train a detector"  # stayed on the form
    assert not empty_env.exists() or not any(empty_env.iterdir())


# --- the Train form: what is shown is what is trained -------------------------------------------
WIDGET_KINDS = ("checkbox", "selectbox", "slider", "select_slider", "number_input", "text_input")


def form_params(at: AppTest, method: str) -> dict:
    """The method's settings as the form's widgets show them."""
    prefix = f"train.p.{method}."
    return {w.key.removeprefix(prefix): w.value for kind in WIDGET_KINDS for w in getattr(at, kind)
            if w.key and w.key.startswith(prefix)}


def other_value(spec: FieldSpec):
    """A valid value of a setting that is not its default (None when it has only one)."""
    if spec.kind == "bool":
        return not spec.default
    if spec.kind in ("select", "log"):
        return next((o for o in spec.options if o != spec.default), None)
    if spec.kind in ("int", "slider", "float"):
        step = spec.step or 1
        up = spec.default + step
        return up if spec.hi is None or up <= spec.hi else spec.default - step
    return None


def widget(at: AppTest, key: str):
    (w,) = [w for kind in WIDGET_KINDS for w in getattr(at, kind) if w.key == key]
    return w


@pytest.mark.parametrize("method", registry.names())
def test_the_started_run_has_exactly_the_settings_the_form_shows(empty_env, method):
    cls = registry.get(method)
    at = open_page("pages/screens/train.py")
    at.selectbox(key="train.dataset").set_value("digits").run()
    at.selectbox(key="train.method").set_value(method).run()
    for field, need in unmet_requirements(method, {}, {}):  # what the method declares it needs
        key = {"known_anomalies": "train.known.digits", "known_normals": "train.known_normals"}[field]
        at.number_input(key=key).set_value(max(need, 20)).run()
    assert not at.button(key="start-run").disabled, [e.value for e in at.error]
    changed = 0
    for spec in field_specs(cls.Config):  # every setting that can matter away from its default
        value, key = other_value(spec), f"train.p.{method}.{spec.name}"
        if value is None or widget(at, key).disabled:
            continue
        widget(at, key).set_value(value).run()
        if at.button(key="start-run").disabled:  # a rule across settings refuses this one: undo it
            widget(at, key).set_value(spec.default).run()
        else:
            changed += 1
    assert changed >= len(cls.Config.model_fields) // 2
    shown = form_params(at, method)
    assert not at.button(key="start-run").disabled, [e.value for e in at.error]
    at.button(key="start-run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    run_id = at.session_state["run_id"]
    manager = manager_of(empty_env)
    try:
        saved = json.loads((empty_env / run_id / "config.json").read_text())
        assert saved["method"] == method and saved["dataset"] == "digits"
        assert saved["params"] == shown
        assert saved["params"] != cls.Config().model_dump()
    finally:
        manager.cancel(run_id)
        manager.shutdown()


def test_an_out_of_range_or_empty_setting_blocks_start_and_says_what_is_allowed(empty_env):
    at = open_page("pages/screens/train.py")
    at.selectbox(key="train.dataset").set_value("digits").run()
    at.number_input(key="train.p.deep-svdd.epochs").set_value(100000).run()
    assert not at.exception
    assert at.button(key="start-run").disabled
    assert any("epochs=100000: allowed values are in [1, 10000]" in e.value for e in at.error)
    at.number_input(key="train.p.deep-svdd.epochs").set_value(2)
    at.number_input(key="train.p.deep-svdd.rep_dim").set_value(None)
    at.number_input(key="train.p.deep-svdd.weight_decay").set_value(-1.0).run()
    shown = " ".join(e.value for e in at.error)
    assert "rep_dim is empty: give a whole number in [0, 512]" in shown
    assert "weight_decay=-1.0: allowed values are in [0, 1]" in shown and "epochs" not in shown
    assert at.button(key="start-run").disabled
    at.number_input(key="train.seed").set_value(None).run()
    assert "seed is empty" in " ".join(e.value for e in at.error)
    assert at.button(key="start-run").disabled and at.title[0].value == "Train a detector"
    assert not empty_env.exists() or not any(empty_env.iterdir())


def test_the_cli_says_the_same_as_the_form(tmp_path, capsys):
    from deepad.cli import main

    code = main(["train", "--dataset", "digits", "--epochs", "100000", "--runs-dir", str(tmp_path)])
    assert code == 2
    assert "epochs=100000: allowed values are in [1, 10000]" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_settings_that_cannot_matter_are_disabled_with_the_reason(empty_env):
    at = open_page("pages/screens/train.py")
    key = "train.p.deep-svdd."

    def disabled(name: str) -> bool:
        return widget(at, key + name).disabled

    assert [disabled(n) for n in ("k", "reg_lr_mult", "d0", "r", "alpha", "beta", "nu", "eta")] == [True] * 8
    assert not disabled("reg") and not disabled("lr") and not disabled("bias")
    assert "Inactive: only used when reg is noise" in texts(at)
    at.selectbox(key=key + "reg").set_value("noise").run()
    assert not disabled("k") and not disabled("alpha") and disabled("d0") and disabled("reg_weight")
    at.selectbox(key=key + "weighting").set_value("fixed").run()
    assert disabled("alpha") and not disabled("reg_weight")
    at.selectbox(key=key + "objective").set_value("soft-boundary").run()
    assert not disabled("nu") and not disabled("warmup_epochs")
    at.number_input(key="train.known.mnist5k").set_value(10).run()
    assert not disabled("eta")


def test_reset_restores_the_defaults(empty_env):
    at = open_page("pages/screens/train.py")
    defaults = registry.get("deep-svdd").Config().model_dump()
    assert form_params(at, "deep-svdd") == defaults
    at.selectbox(key="train.p.deep-svdd.reg").set_value("variance")
    at.number_input(key="train.p.deep-svdd.epochs").set_value(100000)
    at.checkbox(key="train.p.deep-svdd.bias").check().run()
    assert form_params(at, "deep-svdd") != defaults and at.button(key="start-run").disabled
    at.button(key="reset-params").click().run()
    assert not at.exception
    assert form_params(at, "deep-svdd") == defaults and not at.button(key="start-run").disabled


def test_presets_are_picked_with_their_description_and_fill_the_form(empty_env):
    from deepad.presets import load_presets

    preset = load_presets()["collapse-fix-batchnorm"]
    at = open_page("pages/screens/train.py")
    assert at.button(key="preset-start").disabled
    at.selectbox(key="train.preset").set_value("collapse-fix-batchnorm").run()
    assert preset.description in texts(at)
    at.button(key="preset-fill").click().run()
    assert not at.exception
    method = preset.config["method"]
    expected = registry.get(method).Config(**preset.config["params"]).model_dump()
    assert at.selectbox(key="train.method").value == method and form_params(at, method) == expected
    assert not empty_env.exists() or not any(empty_env.iterdir())  # filling starts nothing


def test_the_train_page_draws_every_detectors_hyperparameters(empty_env):
    at = open_page("pages/screens/train.py")
    for method, cls in registry.all_detectors().items():
        at.selectbox(key="train.method").set_value(method).run()
        assert not at.exception, (method, [e.value for e in at.exception])
        keys = {w.key for kind in ("checkbox", "selectbox", "slider", "select_slider", "number_input",
                                   "text_input") for w in getattr(at, kind)}
        assert {f"train.p.{method}.{name}" for name in cls.Config.model_fields} <= keys, method
        # choosing the method filled in its paper's set-up, so it can start as it is ...
        filled = registry.spec(method).default_setup()
        assert at.number_input(key="train.known_normals").value == filled.get("known_normals", 0), method
        assert at.slider(key="train.pollution").value == filled.get("pollution", 0.0), method
        assert at.selectbox(key="train.test_share").value == filled.get("test_anomaly_share"), method
        assert not at.button(key="start-run").disabled, method
        if cls.needs_known_anomalies:
            known = at.number_input(key="train.known.mnist5k")
            k = filled["known_anomalies"]  # R2-AD2: 100; a share as a count, AnoEAN: 10 % of 300
            assert known.value == (k if k >= 1 else round(k * 300)), method
            known.set_value(0).run()  # ... and without them it cannot, and the warning says why
            assert at.button(key="start-run").disabled
            assert any("Known anomalies" in w.value for w in at.warning)


def test_a_dataset_that_is_not_on_disk_explains_how_to_get_it(empty_env, monkeypatch, tmp_path):
    monkeypatch.setenv("DEEPAD_DATA_DIR", str(tmp_path / "no-data"))
    at = open_page("pages/screens/train.py")
    at.selectbox(key="train.dataset").set_value("fashion-mnist").run()
    assert not at.exception
    message = " ".join(e.value for e in at.error)
    assert "not available" in message and "FashionMNIST/raw" in message and "--download" in message


def test_a_preset_whose_data_is_not_on_disk_says_so_and_writes_nothing(empty_env, monkeypatch, tmp_path):
    monkeypatch.setenv("DEEPAD_DATA_DIR", str(tmp_path / "no-data"))
    at = open_page("pages/screens/train.py")
    at.selectbox(key="train.preset").set_value("rt-bigan-fashion-pollution").run()
    at.button(key="preset-start").click().run()
    assert not at.exception, [e.value for e in at.exception]
    message = " ".join(e.value for e in at.error)
    assert "mnist-and-fashion reads MNIST and Fashion-MNIST" in message and "MNIST/raw" in message, message
    assert at.title[0].value == "Train a detector"
    assert not empty_env.exists() or not any(empty_env.iterdir())
    assert not (tmp_path / "no-data").exists()


# --- pure helpers ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", registry.names())
def test_generated_widgets_only_offer_valid_values(method):
    """Every value a widget can produce passes the field's own type and bounds (rules that tie
    several fields together are checked when the form is read: see the next test)."""
    from typing import Annotated

    from pydantic import TypeAdapter

    cls = registry.get(method)
    for spec in field_specs(cls.Config):
        info = cls.Config.model_fields[spec.name]
        field = TypeAdapter(Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation)
        candidates = [spec.default]
        if spec.kind in ("slider", "int", "float"):
            candidates += [v for v in (spec.lo, spec.hi) if v is not None]
        if spec.kind in ("log", "select"):
            candidates += list(spec.options)
        if spec.kind == "bool":
            candidates += [True, False]
        for value in candidates:
            if spec.kind == "json":
                value = json.loads(value)
            field.validate_python(value)  # raises if the widget could produce an invalid value


def test_rules_across_fields_are_explained_when_the_form_is_read():
    from pydantic import Field, model_validator

    from deepad.detectors.base import DetectorConfig

    class Cfg(DetectorConfig):
        warmup: int = Field(2, ge=0, le=100)
        epochs: int = Field(10, ge=1, le=100)

        @model_validator(mode="after")
        def _order(self):
            if self.warmup >= self.epochs:
                raise ValueError(f"warmup={self.warmup} must be below epochs={self.epochs}")
            return self

    params, error = params_from_widgets(Cfg, {"warmup": 50, "epochs": 10})
    assert params is None and "warmup=50 must be below epochs=10" in error
    assert params_from_widgets(Cfg, {"warmup": 5, "epochs": 10}) == ({"warmup": 5, "epochs": 10}, None)


def test_known_parameters_get_the_widgets_the_issue_asks_for():
    specs = {s.name: s for s in field_specs(registry.get("deep-svdd").Config)}
    assert {specs[n].kind for n in ("alpha", "beta", "nu", "k")} == {"slider"}
    assert specs["lr"].kind == "log" and specs["bias"].kind == "bool"
    assert specs["objective"].kind == "select" and specs["reg"].options == ("none", "noise", "variance")
    assert specs["nu"].lo > 0 and specs["nu"].hi == 1 and specs["nu"].label.startswith("ν")


@pytest.mark.parametrize("config", [
    {"dataset": "digits", "method": "deep-svdd", "params": {"bias": True, "batchnorm": False, "lr": 0.01,
                                                           "reg": "noise", "k": 10}, "seed": 3},
    {"dataset": "mnist5k", "setup": {"normal": [0, 1], "anomaly": [7, 8], "known_anomalies": 20,
                                     "known_classes": [7], "pollution": 0.05, "preprocess": "unit"},
     "method": "deep-svdd", "params": {"eta": 2.0, "epochs": 3}, "title": "semi supervised"},
    {"dataset": "breast-cancer", "setup": {"normal": [1]}, "method": "ocsvm", "params": {"nu": 0.05}},
    # set-ups that differ from what the CLI fills in for these methods (their papers' set-ups)
    {"dataset": "mnist5k", "setup": {"normal": [2], "known_normals": 12, "pollution": 0.0},
     "method": "rt-bigan", "params": {}},
    {"dataset": "mnist5k", "setup": {"normal": [2], "known_anomalies": 30, "test_anomaly_share": None},
     "method": "anoean", "params": {}},
    {"dataset": "mnist5k", "setup": {"normal": [2], "known_anomalies": 30, "test_anomaly_share": 0.5},
     "method": "deep-svdd", "params": {}},
    {"dataset": "digits", "setup": {"normal": list(range(10)), "alteration": "block-permutation",
                                    "alteration_param": 4, "known_anomalies": 20,
                                    "train_alteration": "strokes", "train_alteration_param": 2,
                                    "val_alteration": "fgsm", "val_alteration_param": 0.2},
     "method": "deep-svdd", "params": {"eta": 1.0}},
])
def test_the_exported_command_line_trains_the_same_config(config):
    from deepad.cli import build_parser, config_from_args

    cmd = train_command(config)
    argv = shlex.split(cmd)
    assert argv[:4] == ["python", "-m", "deepad", "train"]
    parsed = config_from_args(build_parser().parse_args(argv[3:]))
    assert validate_config(parsed) == validate_config(config)
