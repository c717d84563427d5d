"""Run the papers' presets (each detector's presets/ folder, group "papers") over several seeds and print, per paper,
a markdown table of our mean ± std test AUC (and AP) beside the number the paper itself reports.

    PYTHONPATH=. python bench/paper_tables.py [--papers 000,001,002,003,004] [--seeds 0,1,2]
        [--classes 0,...,9] [--datasets mnist5k,mnist] [--data-dir DIR] [--vae-alpha 1.0,0.1]
        [--ablations reptile,threshold,versus] [--ablation-classes 0,3,7]
        [--threshold-normals 0,3,7] [--threshold-pollutions 0.1,0.2,0.3] [--no-tables]
        [--quick] [--out [PATH]] [--sweep [--ray-address HOST:PORT] [--runs-dir DIR]]

Ours are on MNIST-5k (5000 digits, 500 per class, embedded) with the presets' short recipes; the
papers' are on the full datasets with their own, much longer recipes (and, for 003, Fashion-MNIST
as the pollution). The full torchvision MNIST is run too when it is on disk (never downloaded), and
Ma et al.'s own set-up, MNIST polluted with Fashion-MNIST (dataset mnist-and-fashion), when both are.
--quick cuts every recipe to a couple of epochs: a smoke test of the script, not a result.
--sweep trains every table's runs as one sweep on Ray, side by side (a local instance sized to this
machine, or the cluster at --ray-address): the same command scales from here to a lab cluster, and
every run is kept in the runs folder (the Explore page shows the sweep).

Three Rt-BiGAN studies on MNIST-5k follow Ma et al.'s table (the rt-bigan-polluted set-up: 20 %
unlabelled other digits, 10 known normals). `reptile`: the meta-initialised BiGAN against a
randomly initialised one (meta_iterations 0), adapted on the same known normals; test AUC after
adaptation and after self-training, per normal digit in --ablation-classes. `threshold`: from one
adapted model per normal digit in --threshold-normals and seed, self-training with each
pseudo-label rule at several true pollution rates; test AUC, validation AUC and the pollution
share of the last pseudo-normal set. `versus`: Rt-BiGAN against EGBAD on the same polluted
data (and Rt-BiGAN on the plain BiGAN, without EGBAD's spectral norm and weight average), per
normal digit in --ablation-classes.
They run only when --ablations names them; --no-tables runs the studies only.
--out writes the tables to a file as well (bench/paper_tables.md when no path is given); printing
is enough otherwise, and a generated file is not meant to be committed.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from deepad import metrics
from deepad.data.datasets import MNIST_AND_FASHION, dataset_info, load_dataset
from deepad.detectors import registry
from deepad.errors import DeepADError
from deepad.presets import get_preset
from deepad.reproduce import quick_params
from deepad.training.config import RunConfig, validate_config
from deepad.runs.create import build_split

# --- the papers' own numbers, quoted as printed -------------------------------------------------------

# Zhou et al. (Deep SVDD-VAE), Table 3: "The AUC in % of ours and state-of-the-arts on
# MNIST. The reported performance is averaged over ten seeds." One-vs-all, full MNIST. The paper says
# the baselines' numbers (One-Class Deep SVDD, CAE, ...) are taken from Ruff et al. [29].
P001_TABLE3_COLUMNS = ("OC-SVM", "KDE", "IF", "CAE", "OC-NN", "One-Class Deep SVDD", "Deep VAE-SVDD")
P001_TABLE3 = {  # normal class: values in the column order above
    0: (98.6, 97.1, 98.0, 97.6, 97.0, 98.0, 98.8),
    1: (99.5, 98.9, 97.3, 98.3, 99.5, 99.7, 99.5),
    2: (82.5, 79.0, 88.6, 85.4, 85.2, 91.7, 93.7),
    3: (88.1, 86.2, 89.9, 86.7, 87.1, 91.9, 93.7),
    4: (94.9, 87.9, 92.7, 86.5, 93.5, 94.9, 95.8),
    5: (77.1, 73.8, 85.5, 78.2, 86.3, 88.5, 92.7),
    6: (96.5, 87.6, 95.6, 94.6, 97.3, 98.3, 98.6),
    7: (93.7, 91.4, 92.0, 92.3, 92.9, 94.6, 95.0),
    8: (88.9, 79.2, 89.9, 86.5, 89.5, 93.9, 94.7),
    9: (93.1, 88.2, 93.5, 90.4, 94.6, 96.5, 96.6),
}

# Chong et al. report no MNIST result. Their only one-vs-all number, Table III (CIFAR-10,
# "average of 10 normal classes", one-class mode, AUC in %): D. SVDD [13] 67.9±6.5.
P000_TABLE3_CIFAR10_DSVDD = "67.9±6.5"

# Schulze et al. (R2-AD2), Table 4: "Detection of unknown anomalies, i.e. there are more
# anomaly classes in the test set than there were in the training data. We limited the number of known
# anomalies to 100 and show the results after five detection runs." Row "MN." (normal 0-3, known
# anomalies 4-6, test anomalies 4-9: the r2ad2-semi preset's set-up). (AUC, AP) per method.
P002_TABLE4_MNIST = {"R2-AD2": (".93 ± .01", ".96 ± .01"), "AE": (".75 ± .01", ".79 ± .01")}
# Table 3 (known anomalies) is a rotated table whose stored text is garbled; its MNIST entry for R2-AD2
# cannot be read reliably, so it is not quoted. Table 5 (number of AEs) gives the mean over all ten
# data sets, not MNIST: 3 AEs (the default) "AUC .93, AP .84". The pollution sweep (0-10 %) is Fig. 2
# only: no number in the text.
P002_TABLE5_MEAN_3AES = (".93", ".84")

# Ma et al. (Rt-BiGAN), Table I: "AUC performance of different methods on normal dataset and
# polluted dataset." Full MNIST normal, polluted with Fashion-MNIST. (normal data, polluted data).
P003_TABLE1 = {"AnoGAN": ("0.99", "0.46"), "EGBAD": ("0.98", "0.52"), "Rt-BiGAN": ("0.98", "0.84")}

# Gherbi et al. (AnoEAN): the MNIST results (1 against all, n against m) are Figs. 6 and 7
# only; Tables 1-2 are NSL-KDD and KDD99. Its "AUC" is the area under the precision-recall curve,
# i.e. comparable to our AP.
P004_NOTE = "Fig. 6 / Fig. 7 only, no MNIST number in the text; its 'AUC' is PR-AUC (our AP)"

# --- what we run ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Experiment:
    preset: str
    label: str
    per_class: bool = False  # one-vs-all: one row per --classes, the preset's set-up moved to that class
    params: dict = field(default_factory=dict)  # on top of the preset's params
    paper: object = None  # callable class -> (AUC, AP) strings, or a fixed (AUC, AP), or None


@dataclass(frozen=True)
class Paper:
    key: str
    title: str
    unit: str  # "%" or "fraction": how the paper prints its numbers (ours are shown the same way)
    show_ap: bool
    note: str
    dataset_notes: dict[str, str] = field(default_factory=dict)  # a note that replaces `note` there

    def note_for(self, dataset: str) -> str:
        return self.dataset_notes.get(dataset, self.note)


def p001(column: str):
    i = P001_TABLE3_COLUMNS.index(column)
    return lambda c: (f"{P001_TABLE3[c][i]:.1f}", None)


PAPERS = {
    "000": Paper("000", "Chong et al., Deep SVDD regularizers: the standard Deep SVDD baseline", "%", False,
                 "Chong et al. have no MNIST numbers (their one-vs-all result is CIFAR-10, Table III: D. SVDD "
                 f"{P000_TABLE3_CIFAR10_DSVDD}); the paper column is Ruff et al.'s One-Class Deep SVDD "
                 "as quoted in Zhou et al., Table 3."),
    "001": Paper("001", "Zhou et al., Deep SVDD-VAE, one-vs-all (Table 3, AUC %)", "%", False,
                 "Paper: full MNIST, ten seeds. CAE is their convolutional-autoencoder baseline."),
    "002": Paper("002", "Schulze et al., R2-AD2 (Table 4, MNIST row)", "fraction", True,
                 "Paper: full MNIST, five runs, alarm network trained 100 epochs. Table 3's MNIST entry is "
                 "not legible in the stored text; Table 5's mean over all ten data sets (3 AEs) is AUC "
                 f"{P002_TABLE5_MEAN_3AES[0]}, AP {P002_TABLE5_MEAN_3AES[1]}; the pollution sweep is "
                 "Fig. 2 only."),
    "003": Paper("003", "Ma et al., Rt-BiGAN vs EGBAD (Table I)", "fraction", False,
                 "Paper: full MNIST polluted with Fashion-MNIST; ours: digit 0 normal, 20 % other digits as "
                 "unlabelled pollution.",
                 {MNIST_AND_FASHION: "Paper and ours: MNIST normal, Fashion-MNIST as the test anomalies and "
                  "the pollution (ours: 20 % of the training set, a shorter recipe; the paper gives no "
                  "pollution ratio)."}),
    "004": Paper("004", "Gherbi et al., AnoEAN (MNIST)", "fraction", True, P004_NOTE),
}


def experiments(paper: str, vae_alphas: list[float], dataset: str = "mnist5k") -> list[Experiment]:
    """The rows of one paper's table on one dataset. MNIST + Fashion-MNIST serves Ma et al. only,
    with its own presets (clothing as the pollution); the other datasets run the digit presets."""
    if dataset == MNIST_AND_FASHION:
        if paper != "003":
            return []
        return [Experiment("rt-bigan-fashion-pollution", "Rt-BiGAN, 20 % Fashion-MNIST pollution",
                           paper=(P003_TABLE1["Rt-BiGAN"][1], None)),
                Experiment("egbad-fashion-pollution", "EGBAD, 20 % Fashion-MNIST pollution",
                           paper=(P003_TABLE1["EGBAD"][1], None)),
                Experiment("egbad-fashion-clean", "EGBAD, clean", paper=(P003_TABLE1["EGBAD"][0], None))]
    if paper == "000":
        return [Experiment("deep-svdd-standard", "Deep SVDD standard, one-vs-all", True,
                           paper=p001("One-Class Deep SVDD"))]
    if paper == "001":
        return [Experiment("deep-svdd-vae-one-vs-all", f"Deep SVDD-VAE α={a:g}, one-vs-all", True,
                           {"alpha": a}, p001("Deep VAE-SVDD")) for a in vae_alphas] + [
                Experiment("ae-one-vs-all", "autoencoder (CAE), one-vs-all", True, paper=p001("CAE"))]
    if paper == "002":
        return [Experiment("r2ad2-semi", "R2-AD2, 100 known anomalies (4-6), test 4-9",
                           paper=P002_TABLE4_MNIST["R2-AD2"]),
                Experiment("r2ad2-polluted", "R2-AD2, same + 5 % pollution", paper=("Fig. 2", "Fig. 2"))]
    if paper == "003":
        return [Experiment("rt-bigan-polluted", "Rt-BiGAN, polluted",
                           paper=(P003_TABLE1["Rt-BiGAN"][1], None)),
                Experiment("egbad-polluted", "EGBAD, polluted", paper=(P003_TABLE1["EGBAD"][1], None)),
                Experiment("egbad-clean", "EGBAD, clean", paper=(P003_TABLE1["EGBAD"][0], None))]
    if paper == "004":
        return [Experiment("anoean-one-vs-all", "AnoEAN, one-vs-all, 10 % known from 4 classes", True,
                           paper=("Fig. 6", "Fig. 6")),
                Experiment("anoean-n-vs-m", "AnoEAN, 0,1,2 vs rest, 10 % known from 3,5,7,9",
                           paper=("Fig. 7", "Fig. 7"))]
    raise DeepADError(f"unknown paper {paper!r}; choose from {', '.join(PAPERS)}")


def one_vs_all(setup: dict, c: int, n_classes: int = 10) -> dict:
    """The preset's one-vs-all set-up moved to normal class c: the known-anomaly classes move with it
    (shifted by the same amount, so for the preset's own class nothing changes)."""
    setup = copy.deepcopy(setup)
    shift = c - setup["normal"][0]
    setup["normal"] = [c]
    if setup.get("known_classes"):
        setup["known_classes"] = [(k + shift) % n_classes for k in setup["known_classes"]]
    return setup


def preset_config(preset: str, *, dataset: str | None = None, data_dir: str | None = None,
                  normal: int | None = None, seed: int = 0, params: dict | None = None,
                  device: str = "auto") -> RunConfig:
    """A preset's run config with the given changes, validated as the CLI and dashboard do."""
    cfg = copy.deepcopy(get_preset(preset).config)
    if normal is not None:
        cfg["setup"] = one_vs_all(cfg["setup"], normal)
    cfg["params"] = {**cfg.get("params", {}), **(params or {})}
    cfg.update(seed=seed, device=device, data_dir=data_dir, dataset=dataset or cfg["dataset"])
    return validate_config(cfg)


def fit_and_score(cfg: RunConfig, dataset) -> tuple[float | None, float | None]:
    """Split as the runner does (the detector's preferred preprocessing), fit, score the test part."""
    split = build_split(cfg, dataset)
    det = registry.get(cfg.method)(cfg.params, device=cfg.resolved_device(), seed=cfg.seed)
    det.fit(split.train, split.val)
    s = metrics.summary(split.test.target, det.score(split.test.x))
    return s["auc"], s["ap"]


# --- running and reporting ---------------------------------------------------------------------------


def run_cell(exp: Experiment, dataset, data_dir, c, seeds, quick, scorer=None) -> np.ndarray:
    """(n_seeds, 2) AUC and AP; a run that fails gives NaNs and a note on stderr. `scorer`
    (config, dataset) -> (AUC, AP) trains the cell's runs; default: here, one after another."""
    method = get_preset(exp.preset).config["method"]
    params = {**exp.params, **(quick_params(method) if quick else {})}
    out = []
    for seed in seeds:
        t0 = time.perf_counter()
        try:
            cfg = preset_config(exp.preset, dataset=dataset.name, data_dir=data_dir, normal=c, seed=seed,
                                params=params)
            auc, ap = (scorer or fit_and_score)(cfg, dataset)
        except (DeepADError, RuntimeError) as exc:  # TrainingFailed is a RuntimeError
            print(f"  {exp.preset} class={c} seed={seed}: FAILED {exc}", file=sys.stderr)
            auc = ap = None
        out.append([np.nan if v is None else v for v in (auc, ap)])
        if scorer is not None and getattr(scorer, "planning", False):
            continue
        print(f"  {dataset.name} {exp.preset}{'' if c is None else f' class={c}'} seed={seed}: "
              f"AUC {out[-1][0]:.3f} AP {out[-1][1]:.3f} ({time.perf_counter() - t0:.1f} s)",
              file=sys.stderr, flush=True)
    return np.asarray(out, dtype=float)


def mean_std(values: np.ndarray, unit: str) -> str:
    v = values[~np.isnan(values)] * (100 if unit == "%" else 1)
    if len(v) == 0:
        return "failed"
    d = 1 if unit == "%" else 3
    return f"{v.mean():.{d}f}" + (f" ± {v.std(ddof=1):.{d}f}" if len(v) > 1 else "")


def paper_value(exp: Experiment, c) -> tuple[str, str]:
    if exp.paper is None:
        return "—", "—"
    auc, ap = exp.paper(c) if callable(exp.paper) else exp.paper
    return auc or "—", ap or "—"


def paper_table(paper: Paper, dataset, args) -> str | None:
    """One paper's markdown table on one dataset; None when the paper has no rows for it."""
    exps = experiments(paper.key, args.vae_alphas, dataset.name)
    if not exps:
        return None
    seeds = [int(s) for s in args.seeds.split(",")]
    classes = [int(c) for c in args.classes.split(",")]
    head = ["set-up", "normal", f"ours AUC{' %' if paper.unit == '%' else ''}"]
    head += ["ours AP"] if paper.show_ap else []
    head += ["paper AUC"] + (["paper AP"] if paper.show_ap else [])
    recipes = "the detectors' smoke settings (a smoke test only)" if args.quick else "the presets' recipes"
    lines = [f"### {paper.key}: {paper.title}", "",
             f"Ours: {dataset.name} ({len(dataset.y)} images), seeds {args.seeds}, {recipes}; "
             f"mean ± sample std over seeds. {paper.note_for(dataset.name)}", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for exp in exps:
        cells = classes if exp.per_class else [None]
        class_means = []
        for c in cells:
            res = run_cell(exp, dataset, args.data_dir, c, seeds, args.quick, args.scorer)
            class_means.append(np.nanmean(res, axis=0) if not np.all(np.isnan(res)) else [np.nan] * 2)
            preset_normal = get_preset(exp.preset).config["setup"]["normal"]
            normal = str(c) if c is not None else ",".join(map(str, preset_normal))
            lines.append(row(exp.label, normal, res, paper_value(exp, c), paper))
        if exp.per_class and len(cells) > 1:
            pa = [paper_value(exp, c) for c in cells]
            mean_paper = tuple(_mean_quoted([p[i] for p in pa]) for i in (0, 1))
            lines.append(row(exp.label, "mean ± std over classes", np.asarray(class_means, dtype=float),
                             mean_paper, paper))
    return "\n".join(lines) + "\n"


def _mean_quoted(values: list[str]) -> str:
    try:
        return f"{np.mean([float(v) for v in values]):.1f} (mean of quoted)"
    except ValueError:
        return values[0]


def row(label, normal, res: np.ndarray, paper_vals, paper: Paper) -> str:
    cols = [label, normal, mean_std(res[:, 0], paper.unit)]
    cols += [mean_std(res[:, 1], "fraction")] if paper.show_ap else []
    cols += [paper_vals[0]] + ([paper_vals[1]] if paper.show_ap else [])
    return "| " + " | ".join(cols) + " |"


# --- Rt-BiGAN studies ---------------------------------------------------------------------------------


def rt_bigan_split(normal: int, seed: int, dataset, pollution: float | None = None):
    """The rt-bigan-polluted preset's split moved to `normal` (and to another pollution rate)."""
    cfg = copy.deepcopy(get_preset("rt-bigan-polluted").config)
    cfg["setup"] = one_vs_all(cfg["setup"], normal)
    if pollution is not None:
        cfg["setup"]["pollution"] = pollution
    cfg = validate_config({**cfg, "seed": seed, "dataset": dataset.name})
    return cfg, build_split(cfg, dataset)


PAPER_ADAPT_STEPS = 20  # Ma et al., Sec. VI-C: "after fine-tuning 20 gradient steps"


def rt_bigan_runs(dataset, classes: list[int], seeds: list[int], quick: bool, paper_adaptation: bool,
                  plain: bool) -> dict[str, np.ndarray]:
    """The runs behind the `reptile` and `versus` studies, on the rt-bigan-polluted set-up moved to
    each normal digit, one split per digit and seed shared by every run: EGBAD; Rt-BiGAN meta-
    initialised (its defaults) and randomly initialised (meta_iterations 0), each scored on the
    test set when its adaptation ends and after self-training; with `paper_adaptation` the same two
    stopped after Ma et al.'s 20 adaptation steps; with `plain` Rt-BiGAN on the plain BiGAN
    (no spectral norm, no weight average). Each array: (digit, seed, value), values per key:
    test AUC, validation AUC, then for Rt-BiGAN test AUC after adaptation, the pollution share of
    the last pseudo-normal set and how far meta-training moved Φ."""
    rt_quick = quick_params("rt-bigan") if quick else {}
    runs = {"EGBAD": ("egbad", quick_params("egbad") if quick else {}), "meta": ("rt-bigan", rt_quick),
            "random": ("rt-bigan", {**rt_quick, "meta_iterations": 0})}
    if plain:
        runs["plain"] = ("rt-bigan", {**rt_quick, "spectral_norm": False, "weight_average": 0.0})
    res = {k: np.full((len(classes), len(seeds), 5), np.nan) for k in runs}
    if paper_adaptation:
        res.update({f"{k} {PAPER_ADAPT_STEPS} steps": np.full((len(classes), len(seeds), 5), np.nan)
                    for k in ("meta", "random")})
    for i, c in enumerate(classes):
        for j, seed in enumerate(seeds):
            _, split = rt_bigan_split(c, seed, dataset)
            for name, (method, params) in runs.items():
                det = registry.get(method)(params, seed=seed)
                seen = {}

                def record(rec, snap=None, det=det, seen=seen):
                    if rec["phase"] == "adapt":
                        seen["adapted"] = metrics.auc(split.test.target, det.score(split.test.x))
                    if rec["phase"] == "meta":
                        seen["shift"] = rec["meta_shift"]

                t0 = time.perf_counter()
                det.fit(split.train, on_epoch=record)
                kept = split.train.target[det.pseudo_normal_rows].mean() if method == "rt-bigan" else np.nan
                res[name][i, j] = (metrics.auc(split.test.target, det.score(split.test.x)),
                                   metrics.auc(split.val.target, det.score(split.val.x)),
                                   seen.get("adapted", np.nan), kept, seen.get("shift", np.nan))
                print(f"  digit {c} seed {seed} {name}: test {res[name][i, j, 0]:.3f} val {res[name][i, j, 1]:.3f}"
                      f" adapted {res[name][i, j, 2]:.3f} kept pollution {kept:.3f} shift {res[name][i, j, 4]:.3f} "
                      f"({time.perf_counter() - t0:.1f} s)", file=sys.stderr, flush=True)
                if paper_adaptation and name in ("meta", "random"):
                    short = registry.get(method)({**params, "adapt_steps": PAPER_ADAPT_STEPS, "rounds": 0},
                                                 seed=seed).fit(split.train)
                    res[f"{name} {PAPER_ADAPT_STEPS} steps"][i, j, 0] = metrics.auc(split.test.target,
                                                                                  short.score(split.test.x))
    return res


def reptile_table(res: dict[str, np.ndarray], classes: list[int], seeds: list[int]) -> str:
    """Meta-initialised vs randomly initialised Rt-BiGAN: test AUC after adaptation and after
    self-training, same known normals, splits and seeds."""
    defaults = registry.get("rt-bigan").Config()
    stages = [(f"{k} {PAPER_ADAPT_STEPS} steps", 0, f"{PAPER_ADAPT_STEPS} adaptation steps")
              for k in ("meta",) if f"{k} {PAPER_ADAPT_STEPS} steps" in res]
    stages += [("", 2, f"{defaults.adapt_steps} adaptation steps"), ("", 0, "self-trained")]
    head, cols = ["normal"], []
    for key, k, label in stages:
        for init in ("meta", "random"):
            head.append(f"{init}: {label}")
            cols.append((f"{init} {PAPER_ADAPT_STEPS} steps" if key else init, k))
    lines = ["### 003: does Reptile's meta-initialisation matter? (Rt-BiGAN ablation)", "",
             f"MNIST-5k, rt-bigan-polluted set-up moved to each normal digit (20 % unlabelled other digits, "
             f"10 known normals), seeds {','.join(map(str, seeds))}, test AUC mean ± std over seeds. meta: "
             f"{defaults.meta_iterations} Reptile meta-iterations (ε {defaults.meta_step:g} → "
             f"{defaults.meta_step_final:g}, {defaults.inner_steps} inner steps); random: none "
             f"(meta_iterations 0). Both then adapt on the same known normals and self-train "
             f"{defaults.rounds} rounds. Meta-training moved Φ by "
             f"{np.nanmean(res['meta'][:, :, 4]):.2f} (‖Φ − Φ₀‖ / ‖Φ₀‖, mean over runs).", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for i, c in enumerate(classes + ["mean"]):
        pick = (lambda r, k: r[i, :, k]) if c != "mean" else (lambda r, k: r[:, :, k].mean(0))
        lines.append("| " + " | ".join([str(c)] + [mean_std(pick(res[name], k), "fraction")
                                                    for name, k in cols]) + " |")
    wins = []
    for m, r in zip(cols[::2], cols[1::2]):
        wins.append(int(np.sum(res[m[0]][:, :, m[1]] > res[r[0]][:, :, r[1]])))
    n = len(classes) * len(seeds)
    lines += ["", f"meta beats random in {', '.join(map(str, wins))} of {n} runs at these stages "
              "(means over seeds in the last row)."]
    return "\n".join(lines) + "\n"


THRESHOLD_RULES = {  # label -> Rt-BiGAN params; "oracle" is filled in per pollution rate
    "known normals, max": {"pseudo_label": "known-normals", "known_normal_quantile": 1.0},
    "known normals, median": {"pseudo_label": "known-normals", "known_normal_quantile": 0.5},
    "share 0.5": {"pseudo_label": "share", "threshold_quantile": 0.5},
    "share 0.8": {"pseudo_label": "share", "threshold_quantile": 0.8},
    "share 1 − true pollution (oracle, reference only)": None,
}


def threshold_sensitivity(dataset, normals: list[int], seeds: list[int], pollutions: list[float],
                          quick: bool) -> str:
    """Self-training under each pseudo-label rule from the same adapted model (one per normal
    digit, pollution rate and seed): test AUC, validation AUC and the pollution share of the last
    pseudo-normal set, means (and the lowest test AUC) over digits and seeds."""
    rt_quick = quick_params("rt-bigan") if quick else {}
    shape = (len(THRESHOLD_RULES), len(pollutions), len(normals) * len(seeds))
    test, val, share = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
    adapted = np.full(shape[1:], np.nan)
    for p, pollution in enumerate(pollutions):
        for j, (normal, seed) in enumerate((c, s) for c in normals for s in seeds):
            cfg, split = rt_bigan_split(normal, seed, dataset, pollution)
            params = {**cfg.params, **rt_quick}
            rounds = registry.get("rt-bigan").Config(**params).rounds
            base = registry.get("rt-bigan")({**params, "rounds": 0}, seed=seed).fit(split.train)
            adapted[p, j] = metrics.auc(split.test.target, base.score(split.test.x))
            for r, (label, rule) in enumerate(THRESHOLD_RULES.items()):
                rule = rule or {"pseudo_label": "share", "threshold_quantile": 1 - pollution}
                det = copy.deepcopy(base)  # the same adapted model for every rule
                det.config = det.config.model_copy(update={**rule, "rounds": rounds})
                det.self_train(split.train)
                test[r, p, j] = metrics.auc(split.test.target, det.score(split.test.x))
                val[r, p, j] = metrics.auc(split.val.target, det.score(split.val.x))
                share[r, p, j] = split.train.target[det.pseudo_normal_rows].mean()
                print(f"  threshold {label} digit {normal} pollution {pollution} seed {seed}: test "
                      f"{test[r, p, j]:.3f} val {val[r, p, j]:.3f} kept pollution {share[r, p, j]:.3f}",
                      file=sys.stderr, flush=True)
    head = ["pseudo-label rule"] + [f"pollution {q:g}: test AUC (lowest) / val AUC / kept pollution"
                                    for q in pollutions]
    lines = ["### 003: sensitivity of Rt-BiGAN's self-training to its pseudo-label rule", "",
             f"MNIST-5k, normal digits {','.join(map(str, normals))}, 10 known normals, seeds "
             f"{','.join(map(str, seeds))}; per digit, seed and pollution rate one model is meta-trained "
             "and adapted, then self-trained under each rule. Means over digits and seeds (the lowest "
             "test AUC in brackets). 'kept pollution' is the share of anomalies in the last round's "
             "pseudo-normal set (the training set holds the stated pollution). The adapted model before "
             "self-training: test AUC " + ", ".join(f"{adapted[p].mean():.3f} at {q:g}"
                                                    for p, q in enumerate(pollutions)) + ".", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    defaults = registry.get("rt-bigan").Config().model_dump()
    for r, (label, rule) in enumerate(THRESHOLD_RULES.items()):
        if rule and all(defaults[k] == v for k, v in rule.items()):
            label += " (default)"
        cols = [label] + [f"{test[r, p].mean():.3f} ({test[r, p].min():.3f}) / {val[r, p].mean():.3f} / "
                          f"{share[r, p].mean():.3f}" for p in range(len(pollutions))]
        lines.append("| " + " | ".join(cols) + " |")
    return "\n".join(lines) + "\n"


VERSUS = {"EGBAD": "EGBAD", "meta": "Rt-BiGAN", "plain": "Rt-BiGAN, plain BiGAN (no spectral norm, no average)"}


def versus_table(res: dict[str, np.ndarray], classes: list[int], seeds: list[int]) -> str:
    """Ma et al.'s Table I comparison on MNIST-5k beyond the presets' digit: EGBAD and Rt-BiGAN
    (and, when run, Rt-BiGAN without EGBAD's stabilisation) on the same polluted data."""
    keys = [k for k in VERSUS if k in res]
    lines = ["### 003: Rt-BiGAN against EGBAD on polluted data, several digits", "",
             f"MNIST-5k, the rt-bigan-polluted set-up moved to each normal digit (20 % unlabelled other "
             f"digits, 10 known normals; EGBAD trains on all of it), default recipes, seeds "
             f"{','.join(map(str, seeds))}. Test AUC per seed; validation AUC and (Rt-BiGAN) the share of "
             "anomalies in the last pseudo-normal set, means over seeds.", "",
             "| normal | " + " | ".join(VERSUS[k] for k in keys) + " |", "|---|" + "---|" * len(keys)]
    for i, c in enumerate(classes):
        cols = [str(c)]
        for k in keys:
            r = res[k][i]
            cell = " ".join(f"{v:.2f}" for v in r[:, 0]) + f" (val {r[:, 1].mean():.3f}"
            cell += ")" if np.all(np.isnan(r[:, 3])) else f", kept {r[:, 3].mean():.3f})"
            cols.append(cell)
        lines.append("| " + " | ".join(cols) + " |")
    lines.append("| mean (lowest) | " + " | ".join(
        f"{res[k][:, :, 0].mean():.3f} ({res[k][:, :, 0].min():.3f})" for k in keys) + " |")
    diff = res["meta"][:, :, 0] - res["EGBAD"][:, :, 0]
    lines += ["", f"Rt-BiGAN − EGBAD, test AUC: mean {diff.mean():+.3f}, from {diff.min():+.3f} to "
              f"{diff.max():+.3f}; Rt-BiGAN ahead in {int((diff > 0).sum())} of {diff.size} runs."]
    return "\n".join(lines) + "\n"


def available(name: str, data_dir: str | None):
    """The dataset, or None with a note when a torchvision dataset is not on disk (never downloads)."""
    try:
        return load_dataset(name, data_dir=data_dir, download=False)
    except DeepADError as exc:
        print(f"note: skipping {name}: {exc}", file=sys.stderr)
        return None


class SweepPlan:
    """Run every table's trials as one Ray sweep: a first pass over the tables records the trial
    configs (planning), the sweep trains them all (as many at once as the cluster has CPUs, every
    one an ordinary run in the runs folder), and a second pass reads their scores back."""

    def __init__(self):
        self.planning = True
        self.configs: dict[str, RunConfig] = {}
        self.results: dict[str, tuple[float | None, float | None]] = {}

    def __call__(self, cfg: RunConfig, dataset) -> tuple[float | None, float | None]:
        key = cfg.model_dump_json()
        if self.planning:
            self.configs.setdefault(key, cfg)
            return None, None
        return self.results.get(key, (None, None))

    def run(self, runs_dir: str | None, address: str | None) -> None:
        from deepad.runs.listing import RunStore
        from deepad.sweeps import new_sweep_id
        from deepad.sweeps.engine import run_sweep
        from deepad.sweeps.runs import create_runs

        store, sweep_id = RunStore(runs_dir), new_sweep_id()
        keys = list(self.configs)
        tagged = [{**self.configs[k].model_dump(), "sweep": {"id": sweep_id, "axes": ["normal", "seed"],
                                                              "trial": i, "trials": len(keys)}}
                  for i, k in enumerate(keys)]
        trials = create_runs([validate_config(c) for c in tagged], store)
        print(f"sweep {sweep_id}: {len(trials)} runs in {store.root}", file=sys.stderr, flush=True)

        def ended(run, _cfg):
            print(f"  {run.state}: {run.config['dataset']} {run.config['title'] or run.config['method']} "
                  f"normal={run.config['setup']['normal']} seed={run.config['seed']} AUC {run.summary.get('auc')}",
                  file=sys.stderr, flush=True)

        outcome = run_sweep(trials, store, sweep_id, address=address, on_trial_end=ended)
        print(f"sweep {sweep_id}: {outcome.finished} finished, {outcome.failed} failed in {outcome.seconds:.0f} s "
              f"on {outcome.address}", file=sys.stderr)
        for key, (run, _cfg) in zip(keys, trials):
            s = store.get(run.run_id).summary
            self.results[key] = (s.get("auc"), s.get("ap"))
        self.planning = False


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--papers", default=",".join(PAPERS), help="subset, e.g. 001,003")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--classes", default="0,1,2,3,4,5,6,7,8,9", help="normal classes of one-vs-all rows")
    ap.add_argument("--datasets", default=f"mnist5k,mnist,{MNIST_AND_FASHION}",
                    help="mnist5k is embedded; torchvision ones run only when on disk")
    ap.add_argument("--data-dir", default=None,
                    help="folder with torchvision datasets (else DEEPAD_DATA_DIR)")
    ap.add_argument("--vae-alpha", default=None,
                    help="α values for Deep SVDD-VAE, e.g. 1.0,0.1 (default: the preset's)")
    ap.add_argument("--quick", action="store_true", help="a couple of epochs per run: smoke test only")
    ap.add_argument("--ablations", default="",
                    help="Rt-BiGAN studies to run after the tables: reptile, threshold, versus")
    ap.add_argument("--ablation-classes", default="0,3,7",
                    help="normal digits of the reptile and versus studies")
    ap.add_argument("--paper-adaptation", action="store_true",
                    help="reptile: also stop both inits after Ma et al.'s 20 adaptation steps")
    ap.add_argument("--plain", action="store_true",
                    help="versus: also Rt-BiGAN on the plain BiGAN (no spectral norm, no weight average)")
    ap.add_argument("--threshold-normals", default="0", help="normal digits of the threshold study")
    ap.add_argument("--threshold-pollutions", default="0.1,0.2,0.3")
    ap.add_argument("--no-tables", action="store_true", help="run the Rt-BiGAN studies only")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--sweep", action="store_true",
                    help="train every table's runs as one sweep on Ray (a local instance, or --ray-address), "
                         "kept as runs in --runs-dir")
    ap.add_argument("--ray-address", default=None, help="with --sweep: an existing Ray cluster, HOST:PORT")
    ap.add_argument("--runs-dir", default=None,
                    help="with --sweep: where the runs are kept (else $DEEPAD_RUNS_DIR, else ~/.deepad/runs)")
    ap.add_argument("--out", nargs="?", const="bench/paper_tables.md", default=None,
                    help="also write the tables to this file (default path bench/paper_tables.md)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    preset_alpha = get_preset("deep-svdd-vae-one-vs-all").config["params"]["alpha"]
    args.vae_alphas = [float(a) for a in args.vae_alpha.split(",")] if args.vae_alpha else [preset_alpha]
    unknown = [p for p in args.papers.split(",") if p not in PAPERS]
    if unknown:
        ap.error(f"unknown paper {unknown[0]!r}; choose from {', '.join(PAPERS)}")
    papers = [PAPERS[p] for p in args.papers.split(",")]

    ablations = [a for a in args.ablations.split(",") if a]
    unknown = [a for a in ablations if a not in ("reptile", "threshold", "versus")]
    if unknown:
        ap.error(f"unknown ablation {unknown[0]!r}; choose from reptile, threshold, versus")

    args.scorer = SweepPlan() if args.sweep and not args.no_tables else None
    if args.scorer is not None:
        render(papers, args)  # a first pass only records the sweep's trials
        args.scorer.run(args.runs_dir, args.ray_address)
    doc = [] if args.no_tables else [render(papers, args)]
    seeds = [int(s) for s in args.seeds.split(",")]
    if ablations:
        mnist5k = load_dataset("mnist5k")
        classes = [int(c) for c in args.ablation_classes.split(",")]
        if {"reptile", "versus"} & set(ablations):
            res = rt_bigan_runs(mnist5k, classes, seeds, args.quick, args.paper_adaptation, args.plain)
            if "reptile" in ablations:
                doc.append(reptile_table(res, classes, seeds))
            if "versus" in ablations:
                doc.append(versus_table(res, classes, seeds))
        if "threshold" in ablations:
            doc.append(threshold_sensitivity(mnist5k, [int(c) for c in args.threshold_normals.split(",")], seeds,
                                             [float(q) for q in args.threshold_pollutions.split(",")],
                                             args.quick))
    text = "\n".join(doc)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
        print(f"written to {args.out}", file=sys.stderr)


def render(papers: list[Paper], args) -> str:
    doc = ["# Papers' set-ups: ours beside the papers' own numbers", "",
           "Ours: the presets of the detectors' presets/ folders (group 'papers') on MNIST-5k (5000 digits) with short "
           "recipes, unless a row says otherwise; the papers': full datasets, their own recipes. "
           "Test AUC (ROC) and AP on a held-out 30 % of each class.", ""]
    for name in args.datasets.split(","):
        dataset_info(name)  # an unknown name fails here, before any training
        dataset = available(name, args.data_dir)
        if dataset is None:
            doc.append(f"_{name}: not on disk, skipped._\n")
            continue
        for paper in papers:
            table = paper_table(paper, dataset, args)
            if table is not None:
                doc.append(table)
    return "\n".join(doc)


if __name__ == "__main__":
    main()
