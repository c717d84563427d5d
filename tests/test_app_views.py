"""The numbers and figures behind the pages, without a page: thresholds and mistakes agree with the
metrics, the input-plane grid is preprocessed like the run's data, snapshots and PCA views, the UMAP
projector caches per run, a selection names the same rows on every chart, and the evaluation and log
axes read well."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("streamlit")

from deepad import embedding
from deepad.figures.scores import roc_figure
from deepad.figures.training import collapse_gauges, history_figure  # noqa: E402
from deepad.views.common import run_title
from deepad.views.evaluate import at_threshold, curves, default_threshold
from pages.views.evaluate import flagged_share, measured_on_text, threshold_options
from pages.views.latent import by_score, decision_grid, has_input_plane, hover_columns, probe_truth, score_inputs, selected_rows, snapshot_view
from deepad.views.latent import latent_frame
from pages.views.runs import config_diff, runs_frame
from pages.views.samples import errors_at, extremes  # noqa: E402
from deepad.runs.listing import RunStore  # noqa: E402


def test_threshold_options_and_mistakes_agree_with_the_metrics():
    rng = np.random.default_rng(0)
    results = {"test_scores": np.r_[rng.normal(0, 1, 200), rng.normal(3, 1, 40)],
               "test_target": np.r_[np.zeros(200, int), np.ones(40, int)]}
    opts = threshold_options(results["test_scores"], 1.2345)
    assert 1.2345 in opts and opts == sorted(opts)
    assert flagged_share(results["test_scores"], opts[0]) == 1.0  # the lowest flags everything
    m = at_threshold(results, 1.2345)
    err = errors_at(results, 1.2345, n=500)
    assert (err["n_fp"], err["n_fn"]) == (m["fp"], m["fn"])
    assert len(err["false positives"]) == m["fp"]
    ext = extremes(results, 5)
    assert results["test_scores"][ext["most anomalous"][0]] == results["test_scores"].max()


def test_the_input_plane_goes_through_the_runs_preprocessing(runs_on_disk):
    from deepad.data.datasets import load_dataset

    root, ids = runs_on_disk
    run = RunStore(root).get(ids["toy"])
    results = run.results()
    raw = load_dataset("blobs").x[results["test_index"]]
    np.testing.assert_allclose(score_inputs(run, raw), results["test_scores"], rtol=1e-5, atol=1e-6)
    grid = decision_grid(run, results, resolution=20)
    assert grid.z.shape == (20, 20) and grid.threshold == run.summary["threshold"]
    assert has_input_plane(run) and not has_input_plane(RunStore(root).get(ids["finished"]))


def test_snapshots_are_shown_in_one_view_with_the_probe_labels(runs_on_disk):
    root, ids = runs_on_disk
    run = RunStore(root).get(ids["finished"])
    view = snapshot_view(run.snapshots(), run.results()["center"], probe_truth(run), run.history())
    assert view.xy.shape[0] == len(view.epochs) == 2 and list(view.epochs) == [1, 2]
    assert view.truth is not None and set(np.unique(view.truth)) <= {0, 1}
    x0, x1, y0, y1 = view.lim
    assert (view.xy[..., 0] >= x0).all() and (view.xy[..., 0] <= x1).all()


def test_pca_view_keeps_the_main_directions():
    rng = np.random.default_rng(0)
    emb = np.c_[rng.normal(0, 10, 300), rng.normal(0, 1, 300), np.zeros(300)]
    xy = embedding.pca_2d(emb)
    assert xy.shape == (300, 2)
    assert np.corrcoef(xy[:, 0], emb[:, 0])[0, 1] ** 2 > 0.99
    assert embedding.pca_2d(np.ones((1, 1))).shape == (1, 2)


def test_the_projector_computes_once_per_run_and_survives_failures(runs_on_disk, tmp_path, monkeypatch):
    root, ids = runs_on_disk
    shutil.copytree(root / ids["finished"], tmp_path / ids["finished"])
    run = RunStore(tmp_path).get(ids["finished"])
    calls = []

    def fake_umap(emb, **_):
        calls.append(len(emb))
        return np.asarray(emb)[:, :2].astype(np.float32)

    monkeypatch.setenv("DEEPAD_UMAP", "on")
    monkeypatch.setattr(embedding, "umap_2d", fake_umap)
    p = embedding.Projector()
    assert p.status(run) == "none"
    assert p.request(run) in ("queued", "computing", "ready")
    assert p.wait(run, timeout=30) == "ready"
    assert p.request(run) == "ready" and len(calls) == 1  # cached, outside the run's folder
    assert embedding.umap_cache_file(run).is_file() and not (run.path / embedding.UMAP_FILE).exists()
    cached = embedding.load_umap(run)
    assert cached["xy"].shape == (len(run.results()["test_scores"]), 2)

    def broken(emb, **_):
        raise RuntimeError("numba says no")

    monkeypatch.setattr(embedding, "umap_2d", broken)
    embedding.forget_umap(run)
    p2 = embedding.Projector()
    p2.request(run)
    assert p2.wait(run, timeout=30).startswith("failed: RuntimeError")

    # too few test samples: a failure with its reason, not an endless "computing"
    results = run.results()
    np.savez(run.path / "results.npz", **{k: (v[:2] if k.startswith("test_") else v)
                                          for k, v in results.items()})
    split = json.loads((run.path / "split.json").read_text())
    (run.path / "split.json").write_text(json.dumps({**split, "sizes": {**split["sizes"], "test": 2}}))
    p3 = embedding.Projector()
    p3.request(run)
    assert p3.wait(run, timeout=30) == "failed: UMAP needs at least 3 test samples; the run has 2"
    assert p3.request(run).startswith("failed")  # not queued again on the next page draw
    monkeypatch.setenv("DEEPAD_UMAP", "off")
    assert p2.request(run) == "off"


def test_a_selection_on_any_chart_names_the_same_test_rows(runs_on_disk):
    from deepad.data.datasets import load_dataset

    root, ids = runs_on_disk
    run = RunStore(root).get(ids["finished"])
    results = run.results()
    xy = embedding.pca_2d(results["test_emb"])
    df = latent_frame(run, results, xy)
    assert sorted(df["rank"]) == list(range(1, len(df) + 1))
    assert df["score"][df["rank"] == 1].iloc[0] == results["test_scores"].max()
    # clicked points, a box on the map, a range of the score histogram
    assert list(selected_rows(df, {"pick": [{"row": 7}, {"row": 3}], "box": {}})) == [3, 7]
    x0, x1 = np.quantile(df["x"], [0.2, 0.6])
    y0, y1 = np.quantile(df["y"], [0.1, 0.9])
    boxed = selected_rows(df, {"box": {"x": [x1, x0], "y": [y0, y1]}})
    inside = df[(df.x >= x0) & (df.x <= x1) & (df.y >= y0) & (df.y <= y1)]["row"]
    assert len(boxed) and set(boxed) == set(inside)
    lo, hi = np.quantile(results["test_scores"], [0.5, 0.9])
    ranged = selected_rows(df, {"range": {"bin_maxbins_50_score": [lo, hi]}})
    assert set(ranged) == set(np.flatnonzero((results["test_scores"] >= lo) & (results["test_scores"] <= hi)))
    ordered = by_score(results, ranged)  # the panel lists them most anomalous first
    assert list(results["test_scores"][ordered]) == sorted(results["test_scores"][ranged], reverse=True)
    hover = hover_columns(results, np.arange(3), load_dataset("digits"))
    assert all(u.startswith("data:image/png;base64,") for u in hover["image"])
    table = hover_columns(RunStore(root).get(ids["tabular"]).results(), np.arange(3), load_dataset("breast-cancer"))
    assert list(table.columns)[:2] == ["mean radius", "mean texture"] and len(table) == 3


def test_evaluation_reads_well(runs_on_disk, tmp_path):
    """The operating point at the threshold, the test part's anomaly share next to the metrics,
    the key columns first and empty cells, a user's file by its own name, settings that differ."""
    root, ids = runs_on_disk
    store = RunStore(root)
    run = store.get(ids["finished"])
    results = run.results()
    m = at_threshold(results, default_threshold(run, results))
    assert m["fpr"] == m["fp"] / (m["fp"] + m["tn"])
    roc = roc_figure([curves("a", results)], m)
    marker = [t for t in roc.data if t.name == "at the threshold"][0]
    assert (marker.x[0], marker.y[0]) == (m["fpr"], m["recall"])
    share = measured_on_text(run, results)
    n = len(results["test_target"])
    assert share == f"{n} test samples, {100 * results['test_target'].mean():.1f} % anomalies"
    table = runs_frame(store.list())
    assert list(table.columns)[:5] == ["title", "AUC", "AP", "F1", "collapse"]
    failed = table[table["run"] == ids["failed"]].iloc[0]
    assert failed["collapse"] == "" and np.isnan(failed["AUC"])  # shown as empty cells
    user = RunStore(root).get(ids["finished"])
    user.config = {**user.config, "dataset": f"file:{tmp_path}/0123456789abcdef-good.csv?label_column=label"}
    assert run_title(user) == "deep-svdd · good.csv · normal 0"
    diff = config_diff([store.get(ids["finished"]), store.get(ids["toy"])])
    assert {"dataset", "objective", "epochs"} <= set(diff.index) and "lr" not in diff.index
    assert list(diff.loc["dataset"]) == ["digits", "blobs"]


def test_log_axes_label_whole_decades_and_the_spread_gauge_shows_its_number():
    df = pd.DataFrame({"step": [1, 2, 3], "phase": "train", "epoch": [1, 2, 3], "loss": [100.0, 3.0, 0.02]})
    fig = history_figure(df, ["loss"], log_y=True)
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis.dtick == 1 and fig.layout.yaxis.minor.ticks
    narrow = history_figure(df.assign(loss=[3.0, 2.5, 2.0]), ["loss"], log_y=True)
    assert narrow.layout.yaxis.dtick is None  # within a decade plotly's own labels are numbers
    gauges = collapse_gauges(2.3e-5, 3.0, 32, 0.4)
    assert any(a.text == "2.3e-05" for a in gauges.layout.annotations)
    assert gauges.layout.margin.l >= 40  # room for the dial's "1e-6"
