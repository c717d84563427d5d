"""`python -m deepad ...`: train a run (from options or a preset), list and show runs, score your own
inputs with a finished run, list methods, datasets and presets.

Method hyperparameters become flags automatically from each detector's config (`--nu`, `--k`,
`--alpha`, ...), so the CLI, the dashboard and the tests share one definition and one validation.
Bad input: one line on stderr naming the parameter, the value and what is allowed; exit status 2;
nothing written. The last line printed by `train` is one JSON object.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shlex
import signal
import sys
import threading
import typing

from pydantic import ValidationError

from deepad.data.setups import SetupConfig
from deepad.errors import DeepADError, describe_os_error

EXIT_BAD_INPUT = 2


def _method_fields() -> dict[str, tuple[type, object]]:
    """Union of all detectors' config fields: name -> (annotation, FieldInfo) of the first seen."""
    from deepad.detectors import registry

    fields: dict[str, tuple[type, object]] = {}
    for spec in registry.specs().values():
        for name, info in spec.Config.model_fields.items():
            fields.setdefault(name, (info.annotation, info))
    return fields


def _literal_choices(annotation) -> tuple | None:
    """The allowed values of a Literal[...] (or Optional[Literal[...]]) annotation."""
    for ann in (annotation, *typing.get_args(annotation)):
        if typing.get_origin(ann) is typing.Literal:
            return typing.get_args(ann)
    return None


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    def _get_help_string(self, action):  # show a default only where there is one
        return action.help if action.default in (None, False) else super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
        self.exit(EXIT_BAD_INPUT, f"error: {message} (see `{self.prog} --help`)\n")


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
        choices = _literal_choices(info.annotation)
        s_group.add_argument(_flag(name), dest=f"setup_{name}", default=None, metavar="VALUE",
                             help=_help(info.description, choices))
    t.add_argument("--method", default=None, help="detector (`python -m deepad methods`); default deep-svdd")
    t.add_argument("--seed", type=int, default=None, help="random seed; default 0")
    t.add_argument("--device", default="auto", help="auto | cpu | cuda")
    t.add_argument("--runs-dir", default=None, help="where runs are saved (else $DEEPAD_RUNS_DIR, "
                                                    "else ~/.deepad/runs)")
    t.add_argument("--title", default="", help="a name for the run")
    t.add_argument("--quiet", action="store_true", help="no per-epoch progress on stderr")
    g = t.add_argument_group("method hyperparameters (defaults depend on the method; "
                             "`python -m deepad methods --verbose` lists them)")
    for name, (ann, info) in sorted(_method_fields().items()):
        if ann is bool:
            g.add_argument(_flag(name), dest=f"param_{name}", action=argparse.BooleanOptionalAction,
                           default=None, help=_help(info.description))
        else:
            choices = _literal_choices(ann)
            g.add_argument(_flag(name), dest=f"param_{name}", default=None, metavar="VALUE",
                           help=_help(info.description, choices))


def _help(description: str | None, choices: list | None = None) -> str:
    """A config field's description as argparse help (which reads '%' as a format character)."""
    text = (description or "") + (f" ({' | '.join(choices)})" if choices else "")
    return text.replace("%", "%%")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m deepad", description="DeepAD Studio: deep anomaly detectors")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p.commands = sub.choices  # name -> sub-parser, so that an unknown option is reported by its command

    t = sub.add_parser("train", help="train a detector and save the run",
                       formatter_class=_HelpFormatter)
    _add_run_options(t)

    sw = sub.add_parser("sweep", help="train a grid of runs on Ray (a local instance or a cluster)",
                        formatter_class=_HelpFormatter,
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
    return p


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

    base: dict = {"dataset": "mnist5k", "method": "deep-svdd", "seed": 0, "setup": {}, "params": {}}
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
            raise DeepADError(f"{_flag(name)} does not apply to method {method}; its parameters are: "
                              + ", ".join(_flag(n) for n in own))
        params[name] = value
    if args.dataset is not None and not args.dataset.strip():
        raise DeepADError(f"--dataset={args.dataset!r}: give a dataset name (`python -m deepad datasets` "
                          "lists them) or your own file with --data")
    dataset = args.dataset or base["dataset"]
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


def _cmd_train(args) -> int:
    from deepad.runfolder import CONFIG
    from deepad.store import RunStore
    from deepad.training.runner import create_run, execute

    store = RunStore(args.runs_dir)
    run, cfg = create_run(config_from_args(args), store)
    stop = threading.Event()

    def on_event(_run_id, rec):
        if args.quiet:
            return
        keys = ("loss", "loss_svdd", "loss_reg", "c_t", "R", "val_auc", "spread_ratio")
        shown = " ".join(f"{k}={rec[k]:.4g}" for k in keys if isinstance(rec.get(k), (int, float)))
        if rec.get("verdict"):
            shown += f" verdict={rec['verdict']}"
        print(f"[{rec.get('phase', 'train')} {rec.get('epoch', '?')}] {shown}", file=sys.stderr, flush=True)

    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, lambda *_: stop.set())  # Ctrl-C: cancel, keep the history
    try:
        print(f"run {run.run_id} in {run.path}", file=sys.stderr, flush=True)
        try:
            execute(run, cfg, store, on_event=on_event, should_stop=stop.is_set)
        except OSError:
            if not run.files.has(CONFIG):
                raise DeepADError(f"run folder {run.path} was removed while the run trained; nothing of "
                                  "the run is kept (train it again)") from None
            raise
    finally:
        signal.signal(signal.SIGINT, previous)
    _TRAINED.set()
    if not run.files.has(CONFIG):
        raise DeepADError(f"run folder {run.path} was removed while the run trained; nothing of the run "
                          "is kept (train it again)")
    run = store.get(run.run_id)
    if run.state != "finished":
        print(f"run {run.state}: {run.status.get('error') or ''} {run.status.get('hint') or ''}".rstrip(),
              file=sys.stderr)
    print(json.dumps(_run_line(run)))
    return {"finished": 0, "cancelled": 130}.get(run.state, 1)


def _run_line(run) -> dict:
    """The JSON object `train` prints last (and `sweep` once per trial) for a run as on disk."""
    s, cfg = run.summary, run.config
    out = {"run_id": run.run_id, "state": run.state, "method": cfg.get("method"), "dataset": cfg.get("dataset"),
           "normal": (cfg.get("setup") or {}).get("normal"), "auc": s.get("auc"), "ap": s.get("ap"),
           "f1": s.get("f1"), "n_test": s.get("n_test"), "n_test_anomalies": s.get("n_test_anomalies"),
           "collapsed": s.get("collapsed"), "verdict": s.get("verdict"),
           "seconds": round(run.status.get("seconds", 0.0), 3), "path": str(run.path)}
    if s.get("verdict") is not None:  # null where the hypersphere verdict does not apply
        from deepad.diagnostics import rule

        out.update(spread_ratio=s.get("spread_ratio"), verdict_rule=rule())
    if run.state != "finished":
        out.update(error=run.status.get("error"), hint=run.status.get("hint"),
                   epoch=run.status.get("failed_epoch", run.status.get("epoch")))
    return out


def sweep_configs(args: argparse.Namespace, sweep_id: str) -> list[dict]:
    """The trial configs a `sweep` command line describes (not yet validated): the run config of
    every train option given, times the --grid axes, --seeds and several --normal classes."""
    from deepad.data.setups import SetupConfig
    from deepad.detectors import registry
    from deepad.sweeps import expand, parse_axis, split_values

    axes: dict[str, list] = {}
    for text in args.grid:
        name, values = parse_axis(text)
        if name in axes:
            raise DeepADError(f"--grid {name} is given twice; give all its values in one --grid {name}=...")
        if getattr(args, f"param_{name}", None) is not None or getattr(args, f"setup_{name}", None) is not None:
            raise DeepADError(f"{_flag(name)} is given both as a fixed option and as --grid {name}; keep one")
        axes[name] = values
    if args.seeds is not None:
        if args.seed is not None or "seed" in axes:
            raise DeepADError("--seeds, --seed and --grid seed=... each set the seed; give only one of them")
        axes["seed"] = split_values(args.seeds, "--seeds")
    base_args = copy.copy(args)
    if args.normal is not None and args.normal.strip().lower() != "all" and not args.data:
        normals = split_values(args.normal, "--normal")
        if "normal" in axes:
            raise DeepADError("--normal and --grid normal=... both set the normal class; give only one")
        if len(normals) > 1:
            axes = {"normal": normals, **axes}
        base_args.normal = normals[0] if len(normals) == 1 else None
        if len(normals) == 1 and "+" in normals[0]:
            base_args.normal = normals[0].replace("+", ",")
    base = config_from_args(base_args)
    method_fields = registry.spec(base["method"]).Config.model_fields
    return expand(base, axes, sweep_id, method_fields, SetupConfig.model_fields)


def _cmd_sweep(args) -> int:
    from deepad.store import RunStore
    from deepad.sweeps import check_address, new_sweep_id, resolve_address
    from deepad.sweeps.runs import create_runs, validate_all

    if args.max_concurrent is not None and args.max_concurrent < 1:
        raise DeepADError(f"--max-concurrent={args.max_concurrent}: give at least 1")
    sweep_id = new_sweep_id()
    configs = sweep_configs(args, sweep_id)
    cfgs = validate_all(configs)  # every trial, before anything is written or submitted
    address = resolve_address(args.ray_address)
    if address:
        check_address(address)
    store = RunStore(args.runs_dir)
    trials = create_runs(cfgs, store)
    return run_and_report(trials, store, sweep_id, address=address, max_concurrent=args.max_concurrent,
                          shared=args.shared_runs_dir, quiet=args.quiet)


def run_and_report(trials: list, store, sweep_id: str, *, address: str | None = None,
                   max_concurrent: int | None = None, shared: bool = False, quiet: bool = False) -> int:
    """Train prepared trials on Ray: a JSON line per ended trial, a progress bar on stderr, the
    summary line last. Ctrl-C (SIGINT) or SIGTERM cancels; a second Ctrl-C stops running trials
    at once. Exit status 0: all finished; 1: some failed; 130: cancelled."""
    from deepad.sweeps import axis_values, engine  # engine imports Ray

    stop, force = threading.Event(), threading.Event()

    def on_sigint(*_):
        (force if stop.is_set() else stop).set()
        print("\ncancelling the sweep (Ctrl-C again to stop running trials at once)", file=sys.stderr, flush=True)

    print(f"sweep {sweep_id}: {len(trials)} trials in {store.root}", file=sys.stderr, flush=True)
    bar = None
    if not quiet:
        from tqdm import tqdm

        bar = tqdm(total=len(trials), unit="trial", file=sys.stderr, dynamic_ncols=True,
                   desc=f"sweep {sweep_id}", postfix={"failed": 0})

    def on_trial_end(run, _cfg):
        print(json.dumps({**_run_line(run), "sweep_id": sweep_id,
                          "grid": {a: axis_values(run.config, a) for a in run.config["sweep"]["axes"]},
                          "node": (run.status.get("ray") or {}).get("node_id")}), flush=True)

    def on_progress(outcome):
        if bar is not None:
            bar.n = outcome.finished + outcome.failed + outcome.cancelled
            bar.set_postfix(failed=outcome.failed, cancelled=outcome.cancelled)

    previous = {sig: signal.signal(sig, on_sigint) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        outcome = engine.run_sweep(trials, store, sweep_id, address=address, max_concurrent=max_concurrent,
                                   shared=shared, should_stop=stop.is_set, force_stop=force.is_set,
                                   on_trial_end=on_trial_end, on_progress=on_progress)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if bar is not None:
            bar.close()
    print(json.dumps({**outcome.summary(), "runs_dir": str(store.root)}), flush=True)
    if outcome.cancelled:
        return 130
    return 1 if outcome.failed else 0


def _cmd_list(args) -> int:
    from deepad.store import RunStore

    for run in RunStore(args.runs_dir).list():
        s = run.summary
        row = {"run_id": run.run_id, "state": run.state, "method": run.config.get("method"),
               "dataset": run.config.get("dataset"), "normal": (run.config.get("setup") or {}).get("normal"),
               "auc": s.get("auc"), "collapsed": s.get("collapsed")}
        if run.damage:
            row["damaged"] = run.damage
        print(json.dumps(row))
    return 0


def _cmd_show(args) -> int:
    from deepad.store import RunStore

    run = RunStore(args.runs_dir).get(args.run_id)
    out = run.to_json()
    out["verdict"] = run.summary.get("verdict")  # null where the hypersphere verdict does not apply
    if args.history:
        out["history"] = run.history()
    print(json.dumps(out, indent=1))
    return 0


def _cmd_score(args) -> int:
    from deepad.scoring import score_file
    from deepad.store import RunStore

    for row in score_file(RunStore(args.runs_dir).get(args.run_id), args.data):
        print(json.dumps(row))
    return 0


def _cmd_methods(args) -> int:
    from deepad.detectors import registry

    for name, spec in registry.specs().items():
        row = {"method": name, "title": spec.title, "summary": spec.summary}
        if args.verbose:
            row["params"] = spec.Config().model_dump()
        print(json.dumps(row))
    return 0


def _cmd_datasets(_args) -> int:
    from deepad.data.datasets import CATALOG

    for info in CATALOG.values():
        print(json.dumps({"dataset": info.name, "title": info.title, "kind": info.kind,
                          "embedded": info.embedded, "description": info.description}))
    return 0


def _cmd_presets(_args) -> int:
    from deepad.presets import load_presets

    for p in load_presets().values():
        row = {"preset": p.name, "title": p.title, "group": p.group, "method": p.config["method"],
               "dataset": p.config["dataset"], "description": p.description}
        if p.lesson:
            row.update(lesson=p.lesson, role=p.role, differs_in=list(p.differs_in), pair=p.pair)
        print(json.dumps(row))
    return 0


def run_command_line() -> None:
    """`python -m deepad`: run `main` and exit with its status. After `train` the process ends
    without the interpreter's teardown, which takes seconds once torch is loaded; every file of
    the run is closed and in place by then."""
    code = main()
    if _TRAINED.is_set():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


_TRAINED = threading.Event()  # set by `train` once its run has ended


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args, unknown = parser.parse_known_args(argv)
        if unknown:
            parser.commands[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    except SystemExit as exc:  # argparse's errors (already printed, exit 2) and --help (exit 0)
        return int(exc.code or 0)
    handler = {"train": _cmd_train, "sweep": _cmd_sweep, "list": _cmd_list, "show": _cmd_show,
               "score": _cmd_score, "methods": _cmd_methods,
               "datasets": _cmd_datasets, "presets": _cmd_presets}[args.command]
    try:
        return handler(args)
    except DeepADError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ValidationError as exc:  # should not happen: configs are validated into DeepADError
        print(f"error: {exc.errors()[0]['msg']}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:  # a full disk, a folder removed or not writable: one line, what would fix it
        print(f"error: {describe_os_error(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
