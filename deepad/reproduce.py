"""Each paper's headline comparison, every arm on one split per (normal class, seed): the plan
(`trials`), and the table from the finished runs (`table_rows`). Each comparison is declared in
the folder of the paper's method (`deepad/detectors/<name>/paper.py`, see deepad.detectors.papers);
this module knows no method. Torch-free; `python -m deepad
reproduce PAPER` trains the trials on Ray like any sweep (`deepad.cli.commands.cmd_reproduce`) and
writes `reproductions/<id>.json` in the runs folder, which the Papers page shows.

Every arm of a paper shares the set-up's seeded split: the rows of each part depend only on the
dataset, the set-up and the seed (the method's preprocessing changes the values, not the rows), so
the arms of one (class, seed) see the same training, validation and test samples, and with the
per-purpose random streams the deep arms that differ in one setting also see the same minibatches.
A row's "direction" is the paper's claim that it beats other rows; it holds when its mean test AUC
over every (class, seed) is higher than each of theirs. `wins` counts the paired (class, seed) cases
where it is higher. Nothing is chosen on test labels: checkpoints (`--checkpoint best-val`) are
chosen on validation AUC and the shallow baselines' settings on the training data.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Iterable, Optional

import numpy as np

from deepad.detectors.papers import Arm, PaperPlan, plans
from deepad.errors import DeepADError

REPRODUCTIONS = "reproductions"  # folder of the runs folder with one JSON file per reproduce


def quick_params(method: str) -> dict:
    """--quick: the method's smoke settings (`DetectorSpec.smoke`, every phase in seconds), a smoke
    test of the command, not a result."""
    from deepad.detectors import registry

    return dict(registry.spec(method).smoke)


def has_checkpoint(method: str) -> bool:
    """Whether the method chooses its scoring weights by --checkpoint (the deep detectors)."""
    from deepad.detectors import registry

    return "checkpoint" in registry.spec(method).Config.model_fields


def _names(plan: PaperPlan) -> set[str]:
    """What names a paper: its number, its first author (with or without "et al.") or its method."""
    author = plan.authors.lower()
    return {plan.key, author, author.removesuffix(" et al.").strip(), plan.method}


def get_plan(paper: str) -> PaperPlan:
    """The plan of a paper named by its number (000 ... 004), first author (chong, "Zhou et al.")
    or method (r2ad2)."""
    key = " ".join(str(paper).split()).lower()
    for plan in plans().values():
        if key in _names(plan):
            return plan
    choices = "; ".join(f"{p.key} or {p.authors.removesuffix(' et al.').lower()} or {p.method}" for p in plans().values())
    raise DeepADError(f"paper {paper!r}: choose one of {', '.join(plans())} ({choices})")


def _shift_classes(setup: dict, normal: int, n_classes: int) -> dict:
    """The set-up moved to one normal class: known-anomaly classes that would coincide with it move
    on by one (so each stays an anomaly class)."""
    setup = dict(setup, normal=[normal])
    if setup.get("known_classes"):
        known = []
        for k in setup["known_classes"]:
            k = (k + normal) % n_classes
            while k == normal or k in known:
                k = (k + 1) % n_classes
            known.append(k)
        setup["known_classes"] = known
    return setup


def trials(paper: str, classes: Optional[Iterable[int]] = None, seeds: Iterable[int] = (0, 1, 2),
           checkpoint: str = "last", dataset: str = "mnist5k", n_classes: int = 10,
           quick: bool = False) -> list[dict]:
    """The run configs of a reproduction, one per arm × class × seed (not yet validated), each with
    `reproduce` = {"paper", "row", "normal", "seed"}: what the table groups by."""
    plan = get_plan(paper)
    if checkpoint not in ("last", "best-val"):
        raise DeepADError(f"--checkpoint {checkpoint!r}: choose last or best-val")
    seeds = list(seeds)
    if not seeds:
        raise DeepADError("--seeds: give at least one seed")
    if plan.fixed_normal:
        if classes is not None:
            raise DeepADError(f"--classes does not apply to paper {plan.key} ({plan.authors}): its set-up names its own normal "
                              f"classes {plan.setup['normal']}")
        cells = [None]
    else:
        cells = list(plan.classes if classes is None else classes)
        if not cells:
            raise DeepADError("--classes: give at least one class")
        bad = [c for c in cells if not 0 <= int(c) < n_classes]
        if bad:
            raise DeepADError(f"--classes: class {bad[0]} does not exist in {dataset}; allowed are 0..{n_classes - 1}")
    out = []
    for arm in plan.arms:
        for c in cells:
            setup = {**plan.setup, **arm.setup}
            if c is not None:
                setup = _shift_classes(setup, int(c), n_classes)
            for seed in seeds:
                params = dict(arm.params)
                if quick:
                    params.update(quick_params(arm.method))
                if has_checkpoint(arm.method):
                    params["checkpoint"] = checkpoint
                normal = setup["normal"]
                out.append({"dataset": dataset, "method": arm.method, "params": params, "setup": setup,
                            "seed": int(seed), "title": f"{plan.authors}: {arm.row}",
                            "reproduce": {"paper": plan.key, "row": arm.row, "seed": int(seed),
                                          "normal": normal[0] if len(normal) == 1 else list(normal)}})
    return out


def _paper_value(arm: Arm, classes: list) -> Any:
    if callable(arm.paper):
        return arm.paper([c for c in classes if isinstance(c, int)])
    return arm.paper


def table_rows(paper: str, results: list[dict]) -> list[dict]:
    """One dict per row of the paper's table from finished trials: `results` holds, per trial,
    its `reproduce` tag, `auc` (None when the run failed) and `run_id`."""
    plan = get_plan(paper)
    by_row: dict[str, dict] = {arm.row: {} for arm in plan.arms}
    ids: dict[str, list] = {arm.row: [] for arm in plan.arms}
    val: dict[tuple, float] = {}
    run_of: dict[tuple, str] = {}
    for r in results:
        tag = r["reproduce"]
        if tag["row"] in by_row:
            ids[tag["row"]].append(r.get("run_id"))
            if r.get("auc") is not None and np.isfinite(r["auc"]):
                cell = (str(tag["normal"]), tag["seed"])
                by_row[tag["row"]][cell] = float(r["auc"])
                run_of[(tag["row"], cell)] = r.get("run_id")
                if r.get("val_auc") is not None and np.isfinite(r["val_auc"]):
                    val[(tag["row"], cell)] = float(r["val_auc"])
    arms = list(plan.arms)
    for name, candidates, paper_value, beats in plan.chosen:  # by validation AUC, never test
        by_row[name], ids[name] = {}, []
        cells = set().union(*(by_row[c].keys() for c in candidates))
        for cell in sorted(cells):
            scored = [(val[(c, cell)], -i, c) for i, c in enumerate(candidates) if (c, cell) in val]
            if scored:
                best = max(scored)[2]
                by_row[name][cell] = by_row[best][cell]
                ids[name].append(run_of[(best, cell)])
        arms.append(Arm(name, "chosen", paper=paper_value, beats=beats))
    means = {row: float(np.mean(list(v.values()))) if v else None for row, v in by_row.items()}
    rows = []
    for arm in arms:
        vals = list(by_row[arm.row].values())
        classes = sorted({k[0] for k in by_row[arm.row]})
        holds, wins = None, {}
        if arm.beats and means[arm.row] is not None:
            holds = all(means[o] is not None and means[arm.row] > means[o] for o in arm.beats)
            for o in arm.beats:
                pairs = [(v, by_row[o][k]) for k, v in by_row[arm.row].items() if k in by_row[o]]
                wins[o] = f"{sum(a > b for a, b in pairs)}/{len(pairs)}"
        rows.append({"paper": plan.key, "row": arm.row, "method": arm.method,
                     "mean": means[arm.row], "std": float(np.std(vals, ddof=1)) if len(vals) > 1 else None,
                     "n": len(vals), "n_failed": max(0, len(ids[arm.row]) - len(vals)),
                     "paper_value": _paper_value(arm, [int(c) if c.isdigit() else c for c in classes]),
                     "direction": (f"> {', '.join(arm.beats)}" if arm.beats else None), "holds": holds,
                     "wins": wins or None, "runs": [i for i in ids[arm.row] if i]})
    return rows


def run_val_auc(run) -> Optional[float]:
    """The validation AUC of the weights that score a finished run: the checkpoint's (best-val),
    else the last training epoch's record."""
    v = run.summary.get("checkpoint_val_auc")
    if v is not None:
        return float(v)
    for rec in reversed(run.history()):
        if rec.get("phase", "train") == "train" and rec.get("val_auc") is not None:
            return float(rec["val_auc"])
    return None


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def markdown_table(rows: list[dict]) -> str:
    lines = ["| row | ours (test AUC, mean ± std) | n | paper | paper's direction | holds | paired wins |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        ours = "failed" if r["mean"] is None else _fmt(r["mean"]) + (f" ± {r['std']:.3f}" if r["std"] is not None else "")
        holds = "—" if r["holds"] is None else ("yes" if r["holds"] else "no")
        wins = ", ".join(f"{v} vs {k}" for k, v in (r["wins"] or {}).items()) or "—"
        lines.append(f"| {r['row']} | {ours} | {r['n']} | {_fmt(r['paper_value'])} | {r['direction'] or '—'} | "
                     f"{holds} | {wins} |")
    return "\n".join(lines)


def write_reproduction(runs_dir: Path, record: dict) -> Path:
    """Save a reproduction's table and how it was made (`reproductions/<id>.json`), atomically."""
    folder = Path(runs_dir) / REPRODUCTIONS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{record['id']}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=1), encoding="utf-8")
    tmp.replace(path)
    return path


def read_reproductions(runs_dir: Path) -> list[dict]:
    """The reproductions saved in a runs folder, newest first; a file that is not one is skipped."""
    folder = Path(runs_dir) / REPRODUCTIONS
    out = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            rec = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(rec, dict) and isinstance(rec.get("rows"), list) and isinstance(rec.get("paper"), str):
            out.append(rec)
    return sorted(out, key=lambda r: str(r.get("created", "")), reverse=True)


def new_reproduction_id(paper: str) -> str:
    import secrets

    return f"reproduce-{paper}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
