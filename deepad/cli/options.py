"""The command line and the run config, both ways: the parser (the shared set-up options, and a
flag for every setting of the chosen method's config, from its typed fields, with its own
descriptions), `config_from_args` (options to a run config) and its inverse `train_command` (a run
config to the command that trains it again).

`train` and `sweep` read which method the command line chooses (`--method`, else the `--preset`'s,
else the default) before parsing the rest: `train --method M --help` lists M's settings, and a
setting M does not have is refused with one line naming M's settings (exit status 2)."""

from __future__ import annotations

import argparse
import copy
import json
import shlex

from deepad.cli.method_options import RunParser, not_a_setting
from deepad.cli.parsing import EXIT_BAD_INPUT, HelpFormatter, Parser, flag_for, help_text, literal_choices
from deepad.data.setups import SetupConfig
from deepad.errors import DeepADError

__all__ = ["EXIT_BAD_INPUT", "build_parser", "config_from_args", "flag_for", "train_command"]


def _add_run_options(t: argparse.ArgumentParser, sweep: bool = False) -> None:
    """The options that describe one run (train) or every trial of a sweep."""
    t.add_argument("--preset", default=None,
                   help="start from a preset's config (`python -m deepad presets`); any other option given "
                        "changes it")
    t.add_argument("--dataset", default=None, help="dataset name (`python -m deepad datasets`); default mnist5k")
    t.add_argument("--data-dir", help="folder holding torchvision datasets")
    t.add_argument("--download", action="store_true", help="download a torchvision dataset if missing")
    t.add_argument("--data", default=None, metavar="PATH",
                   help="your own data instead of --dataset: a CSV, an NPZ with x and y, or a folder / zip "
                        "of images in one sub-folder per class")
    t.add_argument("--label-column", default=None, help="with --data CSV: the column holding the labels")
    t.add_argument("--image-size", default=None, help="with --data images: resize to this size, e.g. 32 or 28x28")
    t.add_argument("--drop-bad-rows", action="store_true", help="with --data: drop rows with NaN / infinite values")
    t.add_argument("--normal", default=None,
                   help=("normal class of each trial: one, a comma list or a range (0..9) makes it a grid "
                         "axis; 0+1 is one n-vs-m trial; 'all' every class" if sweep else
                         "normal class(es), comma list (n-vs-m), or 'all'; with --data, label values; "
                         "default: the dataset's default normal class"))
    t.add_argument("--anomaly", default=None, help="anomaly classes at test, comma list (default: all others)")
    t.add_argument("--known-classes", default=None, help="classes the known anomalies come from")
    s_group = t.add_argument_group("experiment set-up")
    for name, info in SetupConfig.model_fields.items():
        if name in ("normal", "anomaly", "known_classes"):
            continue
        choices = literal_choices(info.annotation)
        s_group.add_argument(flag_for(name), dest=f"setup_{name}", default=None, metavar="VALUE",
                             help=help_text(info.description, choices))
    t.add_argument("--method", default=None,
                   help=f"detector (`python -m deepad methods`); default {_default_method()}; its settings "
                        "are listed below")
    t.add_argument("--seed", type=int, default=None, help="random seed; default 0")
    t.add_argument("--device", default="auto", help="auto | cpu | cuda")
    t.add_argument("--runs-dir", default=None, help="where runs are saved (else $DEEPAD_RUNS_DIR, "
                                                    "else ~/.deepad/runs)")
    t.add_argument("--title", default="", help="a name for the run")
    t.add_argument("--quiet", action="store_true", help="no per-epoch progress on stderr")


def _default_method() -> str:
    from deepad.detectors import registry

    return registry.default_method()


def build_parser(prog: str = "python -m deepad") -> argparse.ArgumentParser:
    p = Parser(prog=prog, description="DeepAD Studio: deep anomaly detectors")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    p.commands = sub.choices  # name -> sub-parser, so that an unknown option is reported by its command

    sub._parser_class = RunParser  # train and sweep: the chosen method's settings
    t = sub.add_parser("train", help="train a detector and save the run", formatter_class=HelpFormatter)
    _add_run_options(t)

    sw = sub.add_parser("sweep", help="train a grid of runs on Ray (a local instance or a cluster)",
                        formatter_class=HelpFormatter,
                        description="Every combination of the --grid axes, --seeds and --normal classes is a "
                                    "trial: an ordinary run, trained as a Ray task. Any train option is fixed "
                                    "for every trial. One JSON line per finished trial, then a summary line.")
    _add_run_options(sw, sweep=True)
    sw.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2,...",
                    help="a grid axis: a method hyperparameter or set-up setting and its values "
                         "(a..b for whole numbers); repeat for more axes (their product is swept)")
    sw.add_argument("--seeds", default=None, help="seeds of every grid point, e.g. 0,1,2 or 0..4")
    sw.add_argument("--ray-address", default=None, metavar="HOST:PORT",
                    help="an existing Ray cluster (else $DEEPAD_RAY_ADDRESS, else a local instance sized to "
                         "this machine, started and stopped by the sweep)")
    sw.add_argument("--max-concurrent", type=int, default=None, metavar="N",
                    help="at most N trials at once (default: as many as the cluster has CPUs)")
    sw.add_argument("--shared-runs-dir", action="store_true",
                    help="the runs folder is on a disk every node of the cluster sees: trials write there "
                         "directly (default: each trial's files are shipped back through Ray)")

    sub._parser_class = Parser
    ls = sub.add_parser("list", help="list saved runs (JSON lines)")
    ls.add_argument("--runs-dir", default=None)
    sh = sub.add_parser("show", help="show one run (JSON)")
    sh.add_argument("run_id")
    sh.add_argument("--runs-dir", default=None)
    sh.add_argument("--history", action="store_true", help="include the per-epoch records")
    sc = sub.add_parser("score", help="score your own inputs with a finished run (JSON lines)")
    sc.add_argument("run_id")
    sc.add_argument("--data", required=True, metavar="PATH",
                    help="a CSV (numeric columns), an NPZ with an array x, one image, or a zip / folder "
                         "of images; each input must have the shape the run was trained on")
    sc.add_argument("--runs-dir", default=None)
    m = sub.add_parser("methods", help="list detectors")
    m.add_argument("--verbose", action="store_true", help="with their hyperparameters and defaults")
    sub.add_parser("datasets", help="list datasets")
    sub.add_parser("presets", help="list the presets (the papers' set-ups, the collapse lessons)")
    _add_reproduce(sub)
    ex = sub.add_parser("export", help="export runs to TensorBoard or MLflow (offline)",
                        description="Per-epoch curves, final metrics, the config as parameters / hparams, the "
                                    "ROC figure and the model file as artifacts. mlflow: a local file store in "
                                    "--out (one experiment; a sweep's runs in the sweep's); tensorboard: one "
                                    "event folder per run under --out.")
    ex.add_argument("run_ids", nargs="+", metavar="RUN")
    ex.add_argument("--format", required=True, choices=("tensorboard", "mlflow"), dest="fmt")
    ex.add_argument("--out", required=True, metavar="DIR")
    ex.add_argument("--runs-dir", default=None)
    dg = sub.add_parser("diagnose", help="collapse check of your own model's embeddings (JSON)",
                        description="The verdict, spread ratio, effective rank and constant dimensions the "
                                    "project's runs get, for embeddings in an NPZ: 'snapshots' (epochs, n, d), "
                                    "the first the reference, or 'embeddings' (n, d) with 'reference' (m, d) or "
                                    "'reference_spread'; optionally 'center' (d,) and 'scores' (k,).")
    dg.add_argument("file", metavar="FILE.npz")
    for name in ("app", "dashboard"):
        sub.add_parser(name, help="start the dashboard" + (" (the same as `app`)" if name == "dashboard" else ""),
                       description="Start the dashboard (what `make run` and `python serve.py` start). Any "
                                   "`streamlit run` option follows, e.g. --server.port 8600 --server.headless true.")
    return p


def _add_reproduce(sub) -> None:
    r = sub.add_parser("reproduce", help="rerun a paper's headline comparison, every arm on one split per "
                                         "(class, seed), on Ray; one JSON line per table row, then the table",
                       formatter_class=HelpFormatter)
    r.add_argument("paper", help="000 (Chong et al.), 001 (Zhou et al.), 002 (Schulze et al.), 003 (Ma et al.) or "
                   "004 (Gherbi et al.); or the first author (chong, ...) or the method (r2ad2, ...)")
    r.add_argument("--classes", default=None, help="normal classes, e.g. 0,1,2 or 0..9 (default: the paper's)")
    r.add_argument("--seeds", default="0,1,2", help="seeds, e.g. 0,1,2 or 0..4")
    r.add_argument("--checkpoint", choices=("last", "best-val"), default="last",
                   help="the deep arms' checkpoint: the last epoch, or the epoch of best validation AUC")
    r.add_argument("--dataset", default="mnist5k", help="dataset name (`python -m deepad datasets`)")
    r.add_argument("--quick", action="store_true", help="a couple of epochs per arm: a smoke test, not a result")
    r.add_argument("--dry-run", action="store_true", help="print the trials (one JSON object each), train nothing")
    r.add_argument("--ray-address", default=None, metavar="HOST:PORT",
                   help="an existing Ray cluster (else $DEEPAD_RAY_ADDRESS, else a local instance)")
    r.add_argument("--max-concurrent", type=int, default=None, metavar="N", help="at most N trials at once")
    r.add_argument("--runs-dir", default=None)
    r.add_argument("--quiet", action="store_true", help="no progress bar")


def _int_list(text: str | None, name: str) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(v) for v in text.split(",") if v.strip() != ""]
    except ValueError:
        raise DeepADError(f"--{name}={text!r}: expected class numbers separated by commas, e.g. 3 or 0,1,2") from None


def config_from_args(args: argparse.Namespace) -> dict:
    """The run config the options describe: a preset's (--preset) or the defaults, changed by every
    option given. A preset's hyperparameters are kept unless --method names another detector. The
    method's paper set-up values (`DetectorSpec.default_setup`: Rt-BiGAN's known normals and
    pollution, the known anomalies of R2-AD2 and AnoEAN) fill what neither the preset nor the
    options set."""
    from deepad.data.datasets import dataset_info, load_dataset
    from deepad.detectors import registry

    base: dict = {"dataset": "mnist5k", "method": registry.default_method(), "seed": 0, "setup": {}, "params": {}}
    if args.preset:
        from deepad.presets import get_preset

        preset = get_preset(args.preset)
        base = {**base, "title": preset.title, **copy.deepcopy(preset.config)}
    method = args.method or base["method"]
    own = registry.spec(method).Config.model_fields
    params = dict(base["params"]) if method == base["method"] else {}
    for key, value in vars(args).items():
        if not key.startswith("param_") or value is None:
            continue
        name = key.removeprefix("param_")
        if name not in own:
            raise DeepADError(not_a_setting(flag_for(name), method))
        params[name] = value
    if args.dataset is not None and not args.dataset.strip():
        raise DeepADError(f"--dataset={args.dataset!r}: give a dataset name (`python -m deepad datasets` "
                          "lists them) or your own file with --data")
    dataset = args.dataset or base["dataset"]
    if not args.data:  # options of a user's file, given without one
        for flag, value in (("--label-column", args.label_column), ("--image-size", args.image_size),
                            ("--drop-bad-rows", args.drop_bad_rows or None)):
            if value is not None:
                raise DeepADError(f"{flag} applies only to your own data given with --data; the dataset "
                                  f"{dataset!r} has no such option, so it would be ignored: drop {flag}, "
                                  "or give --data PATH")
    setup = dict(base["setup"]) if dataset == base["dataset"] and not args.data else {}
    if args.data:
        from deepad.data.uploads import user_dataset_name

        dataset = user_dataset_name(args.data, label_column=args.label_column, image_size=args.image_size,
                                    normal_values=args.normal, drop_bad_rows=args.drop_bad_rows or None)
        setup["normal"] = list(dataset_info(dataset).default_normal)
    elif args.normal is not None and args.normal.strip().lower() == "all":
        setup["normal"] = list(range(len(load_dataset(dataset, data_dir=args.data_dir,
                                                      download=args.download).classes)))
    elif args.normal is not None:
        setup["normal"] = _int_list(args.normal, "normal")
    setup.setdefault("normal", list(dataset_info(dataset).default_normal))
    for name, value in registry.spec(method).default_setup(params).items():  # the method's paper set-up
        setup.setdefault(name, value)
    for name in ("anomaly", "known_classes"):
        if getattr(args, name) is not None:
            setup[name] = _int_list(getattr(args, name), name.replace("_", "-"))
    for key, value in vars(args).items():
        if key.startswith("setup_") and value is not None:
            name = key.removeprefix("setup_")
            unset = SetupConfig.model_fields[name].default is None and str(value).lower() == "none"
            setup[name] = None if unset else value  # "none": an optional setting left unset
    return {"dataset": dataset, "data_dir": args.data_dir, "download": args.download, "setup": setup,
            "method": method, "params": params, "seed": base["seed"] if args.seed is None else args.seed,
            "device": args.device, "title": args.title or base.get("title", "")}


def train_command(config) -> str:
    """The `python -m deepad train ...` command line that trains the same run: the inverse of
    `config_from_args` (the dashboard shows it under the Train form)."""
    from deepad.detectors import registry
    from deepad.training.config import RunConfig

    cfg = config if isinstance(config, RunConfig) else RunConfig(**config)
    s = cfg.setup
    args = ["python", "-m", "deepad", "train", "--dataset", cfg.dataset]
    if cfg.data_dir:
        args += ["--data-dir", cfg.data_dir]
    if cfg.download:
        args.append("--download")
    args += ["--normal", ",".join(map(str, s.normal))]
    if s.anomaly:
        args += ["--anomaly", ",".join(map(str, s.anomaly))]
    filled = registry.spec(cfg.method).default_setup(cfg.params)  # what config_from_args fills in
    if s.known_anomalies or "known_anomalies" in filled:
        k = s.known_anomalies
        args += ["--known-anomalies", str(int(k)) if k >= 1 or k == 0 else repr(float(k))]
    if s.known_classes:
        args += ["--known-classes", ",".join(map(str, s.known_classes))]
    if s.known_normals or "known_normals" in filled:
        args += ["--known-normals", str(s.known_normals)]
    if s.pollution or "pollution" in filled:
        args += ["--pollution", repr(float(s.pollution))]
    if s.test_anomaly_share is not None or "test_anomaly_share" in filled:
        share = s.test_anomaly_share
        args += ["--test-anomaly-share", "none" if share is None else repr(float(share))]
    if s.preprocess != "auto":
        args += ["--preprocess", s.preprocess]
    for name in ("alteration", "alteration_param", "train_alteration", "train_alteration_param",
                 "val_alteration", "val_alteration_param"):
        value = getattr(s, name)
        if value is not None and value != "none":
            args += ["--" + name.replace("_", "-"), _short_number(value)]
    args += ["--method", cfg.method]
    defaults = registry.spec(cfg.method).Config().model_dump()
    for name, value in cfg.params.items():
        if name in defaults and value == defaults[name]:
            continue
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            args.append(flag if value else "--no-" + name.replace("_", "-"))
        elif isinstance(value, (int, float, str)):
            args += [flag, repr(value) if isinstance(value, float) else str(value)]
        else:
            args += [flag, json.dumps(value)]
    if cfg.seed:
        args += ["--seed", str(cfg.seed)]
    if cfg.device != "auto":
        args += ["--device", cfg.device]
    if cfg.title:
        args += ["--title", cfg.title]
    return " ".join(shlex.quote(a) for a in args)


def _short_number(value: object) -> str:
    """A whole float as an integer ("2.0" -> "2"), other values as they are."""
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)
