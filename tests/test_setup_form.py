"""The Train page's set-up form is drawn from `SetupConfig`, as a method's settings are drawn from
its detector's config: each set-up widget carries its field's title, description and limits, so a
field's change shows on the page with no page edited."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from deepad.data.setups import SetupConfig  # noqa: E402

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture
def train_page(monkeypatch, tmp_path) -> AppTest:
    monkeypatch.setenv("DEEPAD_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("DEEPAD_UMAP", "off")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()  # the address / opens Train
    assert not at.exception, [e.value for e in at.exception]
    at.selectbox(key="train.dataset").set_value("digits").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_each_set_up_widget_is_labelled_and_explained_by_its_setupconfig_field(train_page):
    at, fields = train_page, SetupConfig.model_fields
    widgets = {"normal": at.multiselect(key="train.normal.digits"),
               "anomaly": at.multiselect(key="train.anomaly.digits"),
               "known_anomalies": at.number_input(key="train.known.digits"),
               "known_classes": at.multiselect(key="train.known_classes.digits"),
               "known_normals": at.number_input(key="train.known_normals"),
               "pollution": at.slider(key="train.pollution"),
               "preprocess": at.selectbox(key="train.preprocess"),
               "test_anomaly_share": at.selectbox(key="train.test_share")}
    for name, widget in widgets.items():
        assert widget.label == fields[name].title, name
        assert fields[name].description in widget.help, name
    # the limits are the field's: pollution < 1 (a step of 0.01 below it), known normals >= 0
    assert at.slider(key="train.pollution").min == 0.0 and at.slider(key="train.pollution").max == 0.99
    assert "[0, inf)" in at.number_input(key="train.known_normals").help
    # a Literal field's choices are its values
    assert at.selectbox(key="train.preprocess").options == list(fields["preprocess"].annotation.__args__)


def test_a_pollution_the_config_refuses_cannot_be_chosen_and_one_it_accepts_reaches_the_run_config(train_page):
    at = train_page
    at.slider(key="train.pollution").set_value(0.7).run()  # over the old hand-written limit of 0.5
    assert not at.exception, [e.value for e in at.exception]
    assert at.slider(key="train.pollution").value == 0.7
    codes = [c.value for c in at.code]  # "The same run from a terminal"
    assert any("--pollution 0.7" in c for c in codes), codes
