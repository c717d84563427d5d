"""A user's own data and the image alterations on the Train page, through Streamlit's AppTest: the
alteration preview and a short block-permutation run whose Samples show the altered anomalies, and a
file through the page's st.file_uploader: a CSV trains and is kept with its run, NaN rows are reported
and can be dropped, mixed image sizes can be resized, and a bad file is refused with the loader's
message and nothing written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from pages.views.common import image_tile
from pages.views.samples import sample_inputs, sample_tiles
from pages.views.train import alteration_setup, check_setup
from pages.views.uploads import check_upload  # noqa: E402
from tests.apptools import manager_of, open_page, texts  # noqa: E402


def start_short_run(at: AppTest) -> str:
    """Set Deep SVDD to 2 epochs after 1 of pretraining, press Start; the new run's id."""
    at.number_input(key="train.p.deep-svdd.epochs").set_value(2)
    at.number_input(key="train.p.deep-svdd.pretrain_epochs").set_value(1)
    at.button(key="start-run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at.session_state["run_id"]


# --- image-alteration set-ups and a user's own file on the Train page ---------------------------------
def _csv_bytes(nan_rows: tuple[int, ...] = ()) -> bytes:
    """A small tabular CSV: 4 features, a text label column "kind" (ok = normal, bad = anomalous)."""
    import pandas as pd

    rng = np.random.default_rng(0)
    ok, bad = rng.normal(0, 1, (150, 4)), rng.normal(3, 1, (50, 4))
    df = pd.DataFrame(np.r_[ok, bad], columns=["f1", "f2", "f3", "f4"])
    df["kind"] = ["ok"] * 150 + ["bad"] * 50
    for r in nan_rows:
        df.loc[r, "f2"] = np.nan
    return df.to_csv(index=False).encode()


def _upload(at: AppTest, name: str, data: bytes) -> AppTest:
    """Choose "your own file" and upload through the page's st.file_uploader."""
    at.radio(key="train.source").set_value("upload").run()
    at.file_uploader(key="upload-file").upload(name, data).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _key(at: AppTest, kind: str, prefix: str) -> str:
    (key,) = [w.key for w in getattr(at, kind) if w.key and w.key.startswith(prefix)]
    return key


def _files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_block_permutation_preview_run_and_altered_samples(empty_env):
    from deepad.data.datasets import load_dataset

    at = open_page("pages/screens/train.py")
    at.selectbox(key="train.dataset").set_value("digits").run()
    assert len(at.image) == 0  # no preview for the usual set-up
    at.selectbox(key="train.alteration").set_value("block-permutation").run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.image) == 2 and "Preview" in texts(at)  # originals and their altered copies
    assert at.number_input(key="train.alt_param.block-permutation").max == 8  # 8×8 digits
    assert at.multiselect(key="train.normal_all.digits").disabled  # every class is normal
    run_id = start_short_run(at)
    manager = manager_of(empty_env)
    try:
        run = manager.wait(run_id, timeout=180)
        assert run.state == "finished", run.status
        setup = run.config["setup"]
        assert setup["alteration"] == "block-permutation" and setup["normal"] == list(range(10))
        at.switch_page("pages/screens/samples.py").run()
        assert not at.exception, [e.value for e in at.exception]
        assert len(at.image) >= 4 and "block-permutation copies" in texts(at)
        # what the page draws (views.sample_inputs): altered anomalies, natural normals
        results = run.results()
        ds = load_dataset("digits")
        rows = np.arange(len(results["test_scores"]))
        shown = sample_inputs(results, rows, ds.x)
        natural = ds.x[results["test_index"]]
        anomalous = results["test_target"] == 1
        assert anomalous.any() and (~anomalous).any()
        diff = np.abs(shown - natural).reshape(len(rows), -1).max(axis=1)
        assert (diff[anomalous] > 0.05).all()  # every altered copy differs from its original
        assert (diff[~anomalous] < 1e-2).all()  # normals are the images themselves (float16)
        tiles = sample_tiles(results, np.flatnonzero(anomalous)[:4], ds.x)
        assert not any(np.array_equal(t, image_tile(x)) for t, x in
                       zip(tiles, natural[np.flatnonzero(anomalous)[:4]]))
    finally:
        manager.shutdown()


def test_alteration_widgets_allow_only_valid_setups(empty_env):
    from deepad.data.datasets import load_dataset

    at = open_page("pages/screens/train.py")
    at.selectbox(key="train.dataset").set_value("breast-cancer").run()
    assert not [w for w in at.selectbox if w.key == "train.alteration"]  # images only
    at.selectbox(key="train.dataset").set_value("digits").run()
    at.selectbox(key="train.alteration").set_value("fgsm").run()
    assert at.slider(key="train.alt_param.fgsm").min == 0.01 and at.slider(key="train.alt_param.fgsm").max == 1.0
    # semi-supervised variant: known anomalies made with another alteration (Chong et al., Table VI)
    at.selectbox(key="train.alteration").set_value("strokes").run()
    assert at.selectbox(key="train.train_alt").disabled  # no known anomalies yet
    at.number_input(key="train.known.digits").set_value(20).run()
    at.selectbox(key="train.train_alt").set_value("block-permutation").run()
    assert not at.exception and not at.error
    assert len(at.image) == 4  # test and known-anomaly previews
    assert not at.button(key="start-run").disabled
    ds = load_dataset("digits")
    setup = alteration_setup({"normal": [0], "known_anomalies": 20}, "strokes", 3, 10,
                                train=("block-permutation", 2))
    assert setup["normal"] == list(range(10)) and check_setup(setup, ds) is None
    assert "at most 8" in check_setup({**setup, "alteration_param": 9}, ds)
    assert "every class" in check_setup({**setup, "normal": [0]}, ds)


def test_an_uploaded_csv_trains_and_is_kept_with_its_run(empty_env):
    at = open_page("pages/screens/train.py")
    _upload(at, "measurements.csv", _csv_bytes())
    assert any("label" in i.value for i in at.info)  # no column named label: the user picks it
    assert not [b for b in at.button if b.key == "start-run"]  # nothing to start before the label is known
    at.selectbox(key=_key(at, "selectbox", "train.upload.label.")).set_value("kind").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    normal_key = _key(at, "multiselect", "train.normal.file:")
    assert at.multiselect(key=normal_key).options == ["0: bad", "1: ok"]
    at.multiselect(key=normal_key).set_value([1]).run()  # "ok" is normal
    run_id = start_short_run(at)
    manager = manager_of(empty_env)
    try:
        run = manager.wait(run_id, timeout=180)
        assert run.state == "finished", run.status
        assert run.config["setup"]["normal"] == [1]
        assert run.config["dataset"].startswith(f"file:{run.path}/data/")  # the run's own copy
        assert run.summary["auc"] > 0.8
        at.switch_page("pages/screens/samples.py").run()  # reopened from the run's copy
        assert not at.exception and len(at.dataframe) >= 2
    finally:
        manager.shutdown()


def test_an_uploaded_csv_with_nan_offers_to_drop_the_rows(empty_env):
    data = _csv_bytes(nan_rows=(3, 17))
    check = check_upload("m.csv", data, label_column="kind")
    assert check.dataset is None and "2 missing" in check.bad_rows and "rows 4, 18" in check.bad_rows
    check = check_upload("m.csv", data, label_column="kind", drop_bad_rows=True)
    assert len(check.dataset.y) == 198

    at = open_page("pages/screens/train.py")
    _upload(at, "m.csv", data)
    at.selectbox(key=_key(at, "selectbox", "train.upload.label.")).set_value("kind").run()
    message = " ".join(e.value for e in at.error)
    assert "2 missing" in message and "in 2 of 200 rows" in message and "rows 4, 18" in message
    assert "Drop these rows" in message
    assert not [b for b in at.button if b.key == "start-run"]  # nothing to train on yet
    at.checkbox(key=_key(at, "checkbox", "train.upload.drop.")).check().run()
    assert not at.exception and "198 samples remain" in " ".join(s.value for s in at.success)
    assert not at.button(key="start-run").disabled
    name = _key(at, "multiselect", "train.normal.file:").removeprefix("train.normal.")
    assert "drop_bad_rows=True" in name
    from deepad.data.datasets import load_dataset

    assert len(load_dataset(name).y) == 198


def test_mixed_image_sizes_are_listed_and_can_be_resized():
    import io
    import zipfile

    from PIL import Image

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(6):
            for cls, size in (("good", (12, 12)), ("bad", (16, 12))):
                img = Image.fromarray((np.random.default_rng(i).random(size[::-1]) * 255).astype(np.uint8))
                b = io.BytesIO()
                img.save(b, format="PNG")
                zf.writestr(f"{cls}/{i}.png", b.getvalue())
    check = check_upload("imgs.zip", buf.getvalue())
    assert check.dataset is None and "2 different sizes" in check.mixed_sizes and "Resize" in check.mixed_sizes
    assert check.size_hint == (12, 12)  # the most common size is suggested
    check = check_upload("imgs.zip", buf.getvalue(), image_size=(10, 14))
    assert check.error is None and check.dataset.x.shape == (12, 1, 10, 14)


@pytest.mark.parametrize("name", ["model.pkl", "escape.zip"])
def test_a_bad_upload_shows_the_error_and_writes_nothing(empty_env, name):
    import io
    import zipfile

    if name.endswith(".pkl"):
        data = b"\x80\x04K\x01."
    else:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("../evil/0.png", b"not an image")
        data = buf.getvalue()
    at = open_page("pages/screens/train.py")
    _upload(at, name, data)
    message = " ".join(e.value for e in at.error)
    assert ("pickles" in message) if name.endswith(".pkl") else ("outside the archive" in message)
    assert not [b for b in at.button if b.key == "start-run"]
    assert not _files_under(empty_env) and not _files_under(empty_env.parent / "uploads")
