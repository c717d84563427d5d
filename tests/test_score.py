"""`python -m deepad score RUN_ID --data PATH`: a finished run's saved model and preprocessing
score new inputs (CSV, NPZ, one image, a zip of images) exactly as they scored the run's own test
samples; input of the wrong shape is refused with exit status 2 naming the expected shape."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from deepad import cli, scoring
from deepad.data.datasets import load_dataset
from deepad.runs.create import new_run_folder
from deepad.runs.listing import RunStore
from deepad.training.runner import train
from deepad.views.common import distances
from deepad.views.evaluate import default_threshold


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("score-runs")
    store = RunStore(root)
    image = train({"dataset": "digits", "method": "deep-svdd", "seed": 1,
                   "params": {"epochs": 2, "pretrain_epochs": 1}}, store)
    table = train({"dataset": "breast-cancer", "setup": {"normal": [1]}, "method": "iforest",
                   "params": {"n_estimators": 20}}, store)
    return root, store.get(image.run_id), store.get(table.run_id)


def score_cli(capsys, root, run_id: str, path) -> tuple[int, list[dict], str]:
    rc = cli.main(["score", run_id, "--data", str(path), "--runs-dir", str(root)])
    out, err = capsys.readouterr()
    return rc, [json.loads(line) for line in out.splitlines() if line.strip()], err.strip()


def test_score_gives_the_saved_test_scores_of_the_runs_own_inputs(runs, tmp_path, capsys):
    root, run, _ = runs
    results = run.results()
    x = load_dataset("digits").x[results["test_index"]]
    np.savez(tmp_path / "test.npz", x=x)  # no labels needed
    rc, rows, err = score_cli(capsys, root, run.run_id, tmp_path / "test.npz")
    assert rc == 0, err
    assert len(rows) == len(x) and [r["input"] for r in rows[:2]] == ["sample 0", "sample 1"]
    scores = np.array([r["score"] for r in rows])
    np.testing.assert_allclose(scores, results["test_scores"], rtol=1e-5, atol=1e-6)  # same order
    threshold = default_threshold(run, results)
    assert all(r["threshold"] == threshold for r in rows)
    assert [r["anomalous"] for r in rows] == list(scores > threshold)
    assert any(r["anomalous"] for r in rows) and not all(r["anomalous"] for r in rows)
    np.testing.assert_allclose([r["distance"] for r in rows], distances(results), rtol=1e-4, atol=1e-6)


def test_images_in_a_zip_and_one_image_score_as_their_pixels(runs, tmp_path, capsys):
    root, run, _ = runs
    x = load_dataset("digits").x[run.results()["test_index"][:5]]
    pixels = np.round(x[:, 0] * 255).astype(np.uint8)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i, p in enumerate(pixels):
            png = io.BytesIO()
            Image.fromarray(p).save(png, format="PNG")
            zf.writestr(f"mine/{i}.png", png.getvalue())
            if i == 3:
                (tmp_path / "three.png").write_bytes(png.getvalue())
    (tmp_path / "mine.zip").write_bytes(buf.getvalue())
    expected = scoring.score(run, pixels[:, None].astype(np.float32) / 255).score
    rc, rows, err = score_cli(capsys, root, run.run_id, tmp_path / "mine.zip")
    assert rc == 0, err
    assert [r["input"] for r in rows] == [f"mine/{i}.png" for i in range(5)]
    np.testing.assert_allclose([r["score"] for r in rows], expected, rtol=1e-5, atol=1e-6)
    rc, rows, err = score_cli(capsys, root, run.run_id, tmp_path / "three.png")
    assert rc == 0 and len(rows) == 1 and rows[0]["input"] == "three.png"
    assert rows[0]["score"] == pytest.approx(expected[3], rel=1e-5, abs=1e-6)


def test_a_csv_is_matched_to_the_runs_features_by_column_name(runs, tmp_path, capsys):
    root, _, run = runs
    results = run.results()
    ds = load_dataset("breast-cancer")
    df = pd.DataFrame(ds.x[results["test_index"]], columns=ds.feature_names)
    df = df[list(reversed(ds.feature_names))]  # another column order, and a label column
    df.insert(0, "label", ds.y[results["test_index"]])
    df.to_csv(tmp_path / "rows.csv", index=False)
    rc, rows, err = score_cli(capsys, root, run.run_id, tmp_path / "rows.csv")
    assert rc == 0, err
    assert rows[0]["input"] == "row 1" and "distance" not in rows[0]  # no centre for a forest
    np.testing.assert_allclose([r["score"] for r in rows], results["test_scores"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("which, data, needle", [
    ("image", np.zeros((3, 1, 10, 10)), "expects images of 8×8 pixels with 1 channel (grayscale), i.e. "
                                        "shape (n, 1, 8, 8); got images of 10×10 pixels"),
    ("image", np.zeros((3, 30)), "expects images of 8×8 pixels"),
    ("table", np.zeros((3, 4)), "expects rows of 30 numbers, i.e. shape (n, 30) (columns mean radius, "),
])
def test_input_of_the_wrong_shape_is_refused_naming_the_expected_shape(runs, tmp_path, capsys, which, data, needle):
    root, image_run, table_run = runs
    run = image_run if which == "image" else table_run
    np.savez(tmp_path / "bad.npz", x=data)
    rc, rows, err = score_cli(capsys, root, run.run_id, tmp_path / "bad.npz")
    assert rc == 2 and not rows
    assert needle in err and len(err.splitlines()) == 1, err


def test_a_run_without_a_model_is_refused(tmp_path, capsys):
    store = RunStore(tmp_path)
    run = new_run_folder(store, {"dataset": "digits", "method": "deep-svdd"}, "deep-svdd")
    np.savez(tmp_path / "x.npz", x=np.zeros((2, 1, 8, 8)))
    rc, rows, err = score_cli(capsys, tmp_path, run.run_id, tmp_path / "x.npz")
    assert rc == 2 and not rows and "score with a finished run" in err


def test_a_drawing_becomes_an_input_framed_and_centred_like_the_digits():
    canvas = np.zeros((224, 224, 4), np.uint8)
    assert scoring.drawing_to_input(canvas, (1, 28, 28)) is None  # nothing drawn
    canvas[20:120, 150:170] = 255  # a short bar drawn off-centre, top right
    x = scoring.drawing_to_input(canvas, (1, 28, 28))
    assert x.shape == (1, 28, 28) and 0 <= x.min() and x.max() <= 1
    rows = np.flatnonzero(x[0].max(axis=1) > 0.05)
    assert 19 <= len(rows) <= 21  # the ink's box fills 20 of 28 pixels, as in MNIST
    yy, xx = np.indices(x[0].shape)
    assert abs((yy * x[0]).sum() / x[0].sum() - 13.5) <= 1 and abs((xx * x[0]).sum() / x[0].sum() - 13.5) <= 1
    canvas[..., 3] = 0  # fully transparent strokes are no ink
    assert scoring.drawing_to_input(canvas, (1, 28, 28)) is None


def test_an_uploaded_image_is_resized_and_dark_ink_inverted():
    img = np.full((40, 40), 255, np.uint8)
    img[8:32, 14:26] = 0  # a dark stroke on white paper
    png = io.BytesIO()
    Image.fromarray(img).save(png, format="PNG")
    x, inverted = scoring.image_to_input(png.getvalue(), "mine.png", (1, 8, 8))
    assert inverted and x.shape == (1, 8, 8)
    assert x[0, 4, 4] > 0.5 and x[0, 0, 0] < 0.1  # light ink on a dark background now
    kept, inverted = scoring.image_to_input(png.getvalue(), "mine.png", (1, 8, 8), invert=False)
    assert not inverted and kept[0, 0, 0] > 0.9
