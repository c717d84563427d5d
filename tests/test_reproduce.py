"""`python -m deepad reproduce PAPER`: its trials (--dry-run) for every paper, and a tiny real
reproduction on the 8×8 digits on a local Ray instance, shown on the Papers page."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from deepad import cli
from deepad.detectors.papers import plans
from deepad.reproduce import read_reproductions, table_rows

PAPERS = plans()  # every paper's comparison, declared in its method's folder

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_AUTH_MODE": "disabled", "OMP_NUM_THREADS": "1"}
ENV.pop("DEEPAD_RAY_ADDRESS", None)


def dry_run(capsys, *argv) -> list[dict]:
    assert cli.main(["reproduce", *argv, "--dry-run"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


@pytest.mark.parametrize("paper", sorted(PAPERS))
def test_dry_run_lists_every_arm_over_the_classes_and_seeds(capsys, paper):
    plan = PAPERS[paper]
    argv = [paper, "--seeds", "3,5", "--checkpoint", "best-val"]
    if not plan.fixed_normal:
        argv += ["--classes", "1,8"]
    trials = dry_run(capsys, *argv)
    rows = [a.row for a in plan.arms]
    assert [t["row"] for t in trials[::len(trials) // len(rows)]] == rows  # arm by arm, in the table's order
    normals = [None] if plan.fixed_normal else [1, 8]
    for arm in plan.arms:
        mine = [t for t in trials if t["row"] == arm.row]
        assert {t["method"] for t in mine} == {arm.method}
        assert sorted((str(t["normal"]), t["seed"]) for t in mine) == sorted(
            (str(plan.setup["normal"] if n is None else n), s) for n in normals for s in (3, 5))
        for t in mine:
            assert {k: t["params"][k] for k in arm.params} == arm.params
            assert t["params"].get("checkpoint") == ("best-val" if arm.method not in ("ocsvm", "iforest", "kde") else None)
            assert t["setup"]["normal"] == ([t["normal"]] if isinstance(t["normal"], int) else t["normal"])
    # one split per (class, seed): every arm's set-up for a class is the same but for what the arm changes
    by_cell = {}
    changed = {k for arm in plan.arms for k in arm.setup}
    for arm in plan.arms:
        for t in (t for t in trials if t["row"] == arm.row):
            shared = {k: v for k, v in t["setup"].items() if k not in changed}
            by_cell.setdefault((str(t["normal"]), t["seed"]), []).append(shared)
    assert all(all(s == cell[0] for s in cell) for cell in by_cell.values())


@pytest.mark.parametrize("name, key", [("chong", "000"), ("Zhou et al.", "001"), ("r2ad2", "002"),
                                       ("RT-BiGAN", "003"), (" Gherbi ", "004")])
def test_a_paper_is_named_by_its_number_first_author_or_method(capsys, name, key):
    argv = ["--seeds", "0"] + ([] if PAPERS[key].fixed_normal else ["--classes", "1"])
    by_name = dry_run(capsys, name, *argv)
    assert by_name == dry_run(capsys, key, *argv) and {t["paper"] for t in by_name} == {key}


def test_paper_000_pairs_bias_with_and_without_each_regularizer(capsys):
    trials = dry_run(capsys, "000", "--classes", "0", "--seeds", "0")
    params = {t["row"]: t["params"] for t in trials}
    assert len(params) == 8 and {p["lr"] for p in params.values()} == {1e-4, 1e-2}
    assert params["w/ bias + noise reg., lr 0.01"] == {**params["w/ bias, lr 0.01"], "reg": "noise"}
    assert params["w/ bias + σ² reg., lr 0.0001"] == {**params["w/ bias, lr 0.0001"], "reg": "variance"}


@pytest.mark.parametrize("argv, needle", [
    (["007"], "choose one of 000, 001, 002, 003, 004"),
    (["002", "--classes", "1"], "--classes does not apply to paper 002"),
    (["000", "--classes", "12"], "class 12 does not exist"),
    (["000", "--seeds", "a"], "--seeds"),
])
def test_bad_reproduce_options_are_refused_with_one_line(capsys, argv, needle):
    assert cli.main(["reproduce", *argv, "--dry-run"]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1


def test_direction_and_paired_wins_come_from_the_runs():
    tag = lambda row, normal, seed: {"paper": "003", "row": row, "normal": normal, "seed": seed}  # noqa: E731
    results = [{"reproduce": tag("Rt-BiGAN (meta-init.), polluted", 0, s), "auc": a, "run_id": f"r{s}"}
               for s, a in enumerate([0.9, 0.7, 0.8])]
    results += [{"reproduce": tag("EGBAD, polluted", 0, s), "auc": a, "run_id": f"e{s}"}
                for s, a in enumerate([0.8, 0.75, 0.6])]
    results += [{"reproduce": tag("Rt-BiGAN, random init., polluted", 0, s), "auc": a, "run_id": f"x{s}"}
                for s, a in enumerate([0.95, 0.9, None])]
    rows = {r["row"]: r for r in table_rows("003", results)}
    rt = rows["Rt-BiGAN (meta-init.), polluted"]
    assert rt["mean"] == pytest.approx(0.8) and rt["n"] == 3 and rt["std"] == pytest.approx(0.1)
    assert rt["holds"] is False  # above EGBAD (0.717) but below random init. (0.925)
    assert rt["wins"] == {"EGBAD, polluted": "2/3", "Rt-BiGAN, random init., polluted": "0/2"}
    assert rows["Rt-BiGAN, random init., polluted"]["n_failed"] == 1
    assert rows["EGBAD, clean"]["mean"] is None and rows["EGBAD, clean"]["paper_value"] == 0.98


def test_the_validation_chosen_alpha_row_follows_validation_not_test():
    tag = lambda row, seed: {"paper": "001", "row": row, "normal": 2, "seed": seed}  # noqa: E731
    small, per_dim, recipe = (a.row for a in PAPERS["001"].arms[2:5])
    # (test AUC, validation AUC) per seed: seed 0 picks α = 0.1 (best validation, worse test),
    # seed 1 picks the per-dimension arm
    runs = {small: [(0.80, 0.95), (0.90, 0.70)], per_dim: [(0.99, 0.90), (0.85, 0.75)], recipe: [(0.6, 0.5), (0.6, 0.5)]}
    results = [{"reproduce": tag(row, s), "auc": t, "val_auc": v, "run_id": f"{row[:12]}-{s}"}
               for row, pairs in runs.items() for s, (t, v) in enumerate(pairs)]
    rows = {r["row"]: r for r in table_rows("001", results)}
    chosen = rows["Deep SVDD-VAE (α by validation AUC)"]
    assert chosen["mean"] == pytest.approx((0.80 + 0.85) / 2) and chosen["n"] == 2
    assert chosen["runs"] == [f"{small[:12]}-0", f"{per_dim[:12]}-1"] and chosen["n_failed"] == 0


def test_a_tiny_reproduce_on_a_local_ray_fills_the_papers_page(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    out = subprocess.run([sys.executable, "-m", "deepad", "reproduce", "004", "--dataset", "digits", "--classes", "0",
                          "--seeds", "0", "--quick", "--checkpoint", "best-val", "--quiet", "--runs-dir", str(runs)],
                         capture_output=True, text=True, env=ENV, timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert [r["row"] for r in lines] == [a.row for a in PAPERS["004"].arms]
    assert all(r["n"] == 1 and r["n_failed"] == 0 and 0 <= r["mean"] <= 1 for r in lines)
    assert lines[0]["direction"] == "> Deep SAD, OC-SVM, EGBAD" and isinstance(lines[0]["holds"], bool)
    assert "| AnoEAN |" in out.stdout  # the table follows the JSON lines
    from deepad.runs.listing import RunStore

    store = RunStore(runs)
    for r in lines:
        (run_id,) = r["runs"]
        run = store.get(run_id)
        assert run.state == "finished" and run.summary["auc"] == pytest.approx(r["mean"])
        if r["method"] != "ocsvm":
            assert run.summary["checkpoint"] == "best-val" and run.summary["checkpoint_epoch"] >= 1
    (saved,) = read_reproductions(runs)
    assert saved["paper"] == "004" and saved["command"].startswith("python -m deepad reproduce 004")

    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("DEEPAD_RUNS_DIR", str(runs))
    monkeypatch.setenv("DEEPAD_UMAP", "off")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/screens/papers.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Papers"
    (table,) = at.dataframe
    assert list(table.value["row"]) == [a.row for a in PAPERS["004"].arms]
    assert any("reproduce 004" in c.value for c in at.code)


def test_every_comparison_lives_in_its_methods_folder_and_names_registered_methods():
    from deepad.detectors import registry

    specs = registry.specs()
    assert sorted(PAPERS) == ["000", "001", "002", "003", "004"]
    for key, plan in PAPERS.items():
        assert plan.method in specs, key
        assert (specs[plan.method].folder / "paper.py").is_file(), key  # declared where its method is
        assert {a.method for a in plan.arms} <= set(specs), key
        assert all(set(a.beats) <= {b.row for b in plan.arms} for a in plan.arms), key
    source = (Path(__file__).parents[1] / "deepad" / "reproduce.py").read_text()
    assert not any(f'"{name}"' in source for name in specs)  # reproduce names no method
