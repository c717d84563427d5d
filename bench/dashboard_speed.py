"""How fast the dashboard answers. Prints figures; asserts nothing.

    PYTHONPATH=. python bench/dashboard_speed.py [--points 10000] [--no-umap]

1. From a run finishing to its ROC page drawn: a short run trains in the background through the
   run manager while a session watches its live view; when the run has ended, the session's next
   refresh and the switch to the ROC page are timed (Streamlit's AppTest, so no browser).
2. Page render times for a run with --points test points (10 000 by default), written
   synthetically in the store's file format: the first render (data read from disk) and a
   second one (as when a widget changes).
3. UMAP: the server's warm-up (numba compilation), then the time from asking for the run's
   projection (the moment it ends, in the app) to the UMAP view being ready.

Goals from the issue: pages draw in under 1 s; no page waits on UMAP with nothing shown (the PCA
view is drawn at once); after the warm-up a 10 000-point UMAP is ready within 15 s of the run ending.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
APP = str(REPO / "app.py")
PAGES = [f"pages/screens/{name}.py" for name in ("runs", "evaluate", "latent", "samples", "collapse", "explore")]


def synthetic_run(root: Path, n: int, dim: int = 32, epochs: int = 30, seed: int = 0) -> str:
    """A finished Deep SVDD run on MNIST-5k with n test points, in the store's file format."""
    from deepad.runs.create import new_run_folder
    from deepad.runs.listing import RunStore
    from deepad.runs.write import RunWriter
    from deepad.training.config import validate_config

    rng = np.random.default_rng(seed)
    cfg = validate_config({"dataset": "mnist5k", "method": "deep-svdd", "title": f"synthetic {n} points",
                           "params": {"epochs": epochs, "pretrain_epochs": 0}})
    store = RunStore(root)
    run = new_run_folder(store, cfg.model_dump(), cfg.method)
    write = RunWriter(run)
    target = (rng.random(n) < 0.5).astype(np.int64)
    y = np.where(target == 1, rng.integers(1, 10, n), 0)
    center = rng.normal(0, 1, dim).astype(np.float32)
    emb = (center + rng.normal(0, 0.3, (n, dim)) * (1 + target[:, None])).astype(np.float32)
    scores = ((emb - center) ** 2).sum(axis=1).astype(np.float64)
    index = np.where(y == 0, rng.integers(0, 500, n), 500 * y + rng.integers(0, 500, n))
    train_scores = scores[target == 0][:2000]  # the normals' scores stand in for the training set's
    n_train = len(train_scores)
    write.results(test_scores=scores, test_target=target, test_y=y, test_index=index, test_emb=emb,
                  train_scores=train_scores, train_target=np.zeros(n_train, np.int64),
                  train_semi=np.zeros(n_train, np.int64), train_index=np.arange(n_train), center=center)
    snaps = np.stack([center + rng.normal(0, 1.0 / (e + 1), (512, dim)) for e in range(epochs)]).astype(np.float32)
    write.snapshots(snaps, np.arange(1, epochs + 1))
    for e in range(1, epochs + 1):
        write.history({"phase": "train", "epoch": e, "step": e, "loss": 1.0 / e, "loss_svdd": 1.0 / e,
                       "batch_var": 0.1 / e, "mean_dist": 1.0 / e, "val_auc": 0.9, "spread_ratio": 0.3 / e,
                       "eff_rank": 20.0, "const_dims": 0, "verdict": "healthy", "seconds": 0.5})
    write.split({
        "dataset": "mnist5k", "kind": "image", "classes": [str(i) for i in range(10)], "normal": [0],
        "anomaly": list(range(1, 10)), "input_shape": [1, 28, 28], "preprocess": {"method": "unit"},
        "sizes": {"train": n_train, "val": 500, "test": n}, "feature_names": []})
    from deepad import metrics
    from deepad.diagnostics import CollapseMonitor, collapse_summary

    monitor = CollapseMonitor()
    monitor.start(snaps[0])
    report = monitor.final(emb, center)
    summary = {**metrics.summary(target, scores, float(np.percentile(scores[target == 0], 95))),
               "threshold": float(np.percentile(scores[target == 0], 95)), "radius": None,
               "n_test": n, "n_train": n_train, **collapse_summary(report)}
    write.status(state="finished", epoch=epochs, summary=summary, seconds=1.0, ended=time.time())
    return run.run_id


def timed_run(at) -> float:
    t0 = time.perf_counter()
    at.run()
    if at.exception:
        raise RuntimeError([e.value for e in at.exception])
    return time.perf_counter() - t0


def open_app(run_id: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["run"] = run_id
    return at


def bench_run_end_to_roc(root: Path) -> None:
    from pages.ui.singletons import _manager

    manager = _manager(str(root))
    run_id = manager.start({"dataset": "digits", "method": "deep-svdd", "params": {"epochs": 3, "pretrain_epochs": 1}})
    at = open_app(run_id)
    at.run()
    at.switch_page("pages/screens/runs.py").run()  # the live view, as a user would watch it
    run = manager.wait(run_id, timeout=300)
    ended = run.status["ended"]
    refresh = timed_run(at)  # the live view's refresh that sees the run ended
    roc = timed_run(at.switch_page("pages/screens/evaluate.py"))
    drawn = time.time()
    if len(at.get("plotly_chart")) != 4:
        print("   (the ROC page did not draw its four charts: the figure below is not meaningful)")
    print(f"1. run end -> ROC page drawn: {drawn - ended:.2f} s after the run ended "
          f"(live-view refresh {refresh:.2f} s + ROC page {roc:.2f} s; in a browser add the live view's "
          "next poll, 2 to 5 s: deepad.runs.follow.refresh_seconds)")
    manager.shutdown()


def bench_pages(run_id: str, n: int) -> None:
    print(f"2. page render times for a run with {n} test points (first render / again):")
    open_app(run_id).run()  # a first session pays the imports and the process-wide caches
    for page in PAGES:
        at = open_app(run_id)  # a new session on a link to the page: app.py draws it with the sidebar
        at.run()  # registers the pages; then the link opens one
        first = timed_run(at.switch_page(page))
        again = [timed_run(at) for _ in range(3)]
        drawn = f"{len(at.get('plotly_chart'))} charts, {len(at.image)} image grids, {len(at.dataframe)} tables"
        print(f"   {page:<28} {first:6.2f} s / {statistics.median(again):6.2f} s   ({drawn})")


def bench_umap(root: Path, run_id: str, n: int) -> None:
    from deepad import embedding
    from deepad.runs.listing import RunStore

    p = embedding.projector()
    t0 = time.perf_counter()
    p.warm_up()
    state = p.wait_warm(timeout=600)
    print(f"3. UMAP warm-up at server start: {time.perf_counter() - t0:.1f} s ({state})")
    run = RunStore(root).get(run_id)
    embedding.forget_umap(run)
    t0 = time.perf_counter()
    p.request(run)  # what the app does when a run ends
    status = p.wait(run, timeout=600)
    print(f"   {n}-point UMAP ready {time.perf_counter() - t0:.1f} s after the request ({status}); "
          f"the PCA view meanwhile: {pca_seconds(run):.3f} s")


def pca_seconds(run) -> float:
    from deepad.views.latent import centre_in_pca

    results = run.results()
    t0 = time.perf_counter()
    centre_in_pca(results)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=10_000)
    ap.add_argument("--no-umap", action="store_true", help="skip the UMAP figures (about a minute)")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(min(2, os.cpu_count() or 1))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "runs"
        os.environ["DEEPAD_RUNS_DIR"] = str(root)
        os.environ["DEEPAD_UMAP"] = "off"  # the pages do not start UMAP fits during 1. and 2.
        bench_run_end_to_roc(root)
        run_id = synthetic_run(root, args.points)
        bench_pages(run_id, args.points)
        if not args.no_umap:
            os.environ["DEEPAD_UMAP"] = "on"
            bench_umap(root, run_id, args.points)


if __name__ == "__main__":
    main()
