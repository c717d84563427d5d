"""`deepad diagnose`: the project's collapse verdict for anyone's embeddings, from an NPZ file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from deepad import diagnostics
from deepad.cli import main
from deepad.diagnose import diagnose_arrays


def cloud_snapshots(shrink_per_epoch: float, epochs: int = 12, n: int = 300, d: int = 16, seed: int = 0):
    """A cloud of n points around a centre whose spread is multiplied by `shrink_per_epoch` every
    epoch (plus a little noise of its own), as a model's training embeddings after each epoch."""
    rng = np.random.default_rng(seed)
    base = rng.normal(0, 1, (n, d))
    center = rng.normal(0, 1, d)
    return np.stack([center + base * shrink_per_epoch ** e + rng.normal(0, 1e-6, (n, d)) for e in range(epochs)]), center


def run_cli(capsys, path) -> tuple[int, dict | None, str]:
    status = main(["diagnose", str(path)])
    out = capsys.readouterr()
    return status, (json.loads(out.out) if status == 0 else None), out.err


def test_a_shrinking_cloud_is_collapsed_and_a_stable_one_healthy(tmp_path, capsys):
    shrinking, center = cloud_snapshots(0.5)  # 0.5^11: about 5e-4 of the starting spread left
    np.savez(tmp_path / "shrinking.npz", snapshots=shrinking, center=center, scores=np.full(50, 0.25))
    status, report, _ = run_cli(capsys, tmp_path / "shrinking.npz")
    assert status == 0 and report["verdict"] == "collapsed" and report["collapsed"] is True
    assert report["spread_ratio"] == pytest.approx(0.5 ** 11, rel=0.05)
    assert report["const_dims"] == 16 and report["distinct_scores"] == 1  # every std under 1e-3 of the start
    assert [e["verdict"] for e in report["epochs"]] == diagnostics.verdict_trail([0.5 ** e for e in range(1, 12)])
    assert report["rule"]["collapsed_below"] == diagnostics.COLLAPSED_BELOW

    stable, center = cloud_snapshots(0.97)  # shrinks as Deep SVDD's healthy runs do: 0.97^11 = 0.72
    np.savez(tmp_path / "stable.npz", snapshots=stable, center=center)
    status, report, _ = run_cli(capsys, tmp_path / "stable.npz")
    assert status == 0 and report["verdict"] == "healthy" and report["collapsed"] is False
    assert report["spread_ratio"] == pytest.approx(0.97 ** 11, rel=0.05)
    assert report["eff_rank"] > 10 and report["dist_mean"] > 0


def test_embeddings_with_a_reference_get_the_same_numbers_as_a_run(tmp_path, capsys):
    rng = np.random.default_rng(1)
    start = rng.normal(0, 1, (200, 8))
    trained = np.c_[rng.normal(0, 0.005, (200, 6)), np.zeros((200, 2))]  # 2 dimensions constant
    np.savez(tmp_path / "emb.npz", embeddings=trained, reference=start)
    status, report, _ = run_cli(capsys, tmp_path / "emb.npz")
    expected = diagnostics.measure(trained, diagnostics.spread(start))
    assert status == 0 and report["verdict"] == diagnostics.judge(expected["spread_ratio"]) == "collapsed"
    for key in ("spread_ratio", "eff_rank", "const_dims", "dims"):
        assert report[key] == pytest.approx(expected[key])
    assert report["const_dims"] == 2
    np.savez(tmp_path / "emb2.npz", embeddings=start * 0.9, reference_spread=diagnostics.spread(start))
    status, report, _ = run_cli(capsys, tmp_path / "emb2.npz")
    assert status == 0 and report["verdict"] == "healthy" and report["spread_ratio"] == pytest.approx(0.9)


@pytest.mark.parametrize("arrays, message", [
    ({"snapshots": np.zeros((5, 10))}, r"'snapshots' must be \(epochs, n, d\)"),
    ({"snapshots": np.zeros((1, 10, 3))}, "at least 2 epochs"),
    ({"snapshots": np.ones((3, 10, 3))}, "the first snapshot .* has no spread"),
    ({"embeddings": np.ones((10, 3))}, "needs one reference"),
    ({"embeddings": np.ones((10, 3)), "reference": np.ones((10, 4))}, r"'reference' must have shape \(m, 3\)"),
    ({"snapshots": np.full((3, 10, 3), np.nan)}, "90 NaN or infinite values"),
    ({"snapshots": np.random.default_rng(0).normal(size=(3, 10, 3)), "center": np.zeros(4)}, r"shape \(3,\)"),
    ({"snapshots": np.array([[["a"]]])}, "must hold numbers"),
    ({"weights": np.ones(3)}, "unknown array 'weights'"),
    ({}, "give either 'snapshots'"),
])
def test_malformed_arrays_are_refused_with_one_line(tmp_path, capsys, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    status, _, err = run_cli(capsys, path)
    assert status == 2 and err.count("\n") == 1 and err.startswith("error: ")
    import re

    assert re.search(message, err), err


def test_files_that_are_not_npz_arrays_are_refused_with_one_line(tmp_path, capsys):
    (tmp_path / "emb.npy").write_bytes(b"\x93NUMPY")
    (tmp_path / "cut.npz").write_bytes(b"PK\x03\x04 broken")
    np.savez(tmp_path / "objects.npz", snapshots=np.array([{"a": 1}], dtype=object))
    for name in ("emb.npy", "cut.npz", "objects.npz", "missing.npz"):
        status, _, err = run_cli(capsys, tmp_path / name)
        assert status == 2 and err.count("\n") == 1, (name, err)


def test_report_figures_draw_the_gauges_and_the_per_epoch_curves():
    from deepad.diagnose import report_figures

    snaps, center = cloud_snapshots(0.5)
    figs = report_figures(diagnose_arrays({"snapshots": snaps, "center": center}))
    assert set(figs) == {"gauges", "spread", "rank"}
    (line,) = figs["spread"].data
    assert list(line.x) == list(range(1, 12)) and np.allclose(line.y, [0.5 ** e for e in range(1, 12)], rtol=0.05)
    rng = np.random.default_rng(3)
    only = report_figures(diagnose_arrays({"embeddings": rng.normal(size=(50, 4)), "reference_spread": 1.0}))
    assert set(only) == {"gauges"}


def test_the_collapse_page_checks_an_uploaded_file(tmp_path, monkeypatch):
    import io

    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("DEEPAD_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("DEEPAD_UMAP", "off")
    app = str(__import__("pathlib").Path(__file__).resolve().parent.parent / "app.py")
    at = AppTest.from_file(app, default_timeout=60)
    at.run()
    at.switch_page("pages/screens/collapse.py").run()
    assert not at.exception

    def upload(name: str, arrays: dict) -> AppTest:
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        (uploader,) = [u for u in at.get("file_uploader") if u.key == "collapse.own"]
        uploader.set_value((name, buf.getvalue(), "application/octet-stream"))
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    snaps, center = cloud_snapshots(0.5)
    upload("my model.npz", {"snapshots": snaps, "center": center})
    text = "\n".join(m.value for m in at.markdown)
    assert "my model.npz" in text and "collapsed" in text
    assert len(at.get("plotly_chart")) >= 3
    assert {m.label: m.value for m in at.metric}["constant dimensions"] == "16"
    upload("bad.npz", {"embeddings": np.ones((10, 3))})
    assert any("needs one reference" in e.value for e in at.error)
