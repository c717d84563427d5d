"""What each command does: train, sweep, reproduce, list, show, score, methods, datasets, presets.
Each returns the exit status; bad input is a DeepADError that `main` prints as one line (exit
status 2)."""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import shlex
import signal
import sys
import threading
import time

from deepad.cli.options import EXIT_BAD_INPUT, config_from_args, flag_for
from deepad.data.setups import SetupConfig
from deepad.errors import DeepADError
from deepad.sweeps.report import run_and_report, run_line


def cmd_train(args) -> int:
    from deepad.runs.create import create_run
    from deepad.runs.layout import CONFIG
    from deepad.runs.listing import RunStore
    from deepad.training.config import validate_config
    from deepad.training.runner import execute

    from deepad.detectors import registry

    store = RunStore(args.runs_dir)
    new = create_run(validate_config(config_from_args(args)), store)
    run, cfg = new.run, new.config
    stop = threading.Event()
    keys = ("loss", *registry.spec(cfg.method).progress, "val_auc", "spread_ratio")  # the method's own

    def on_event(_run_id, rec):
        if args.quiet:
            return
        shown = " ".join(f"{k}={rec[k]:.4g}" for k in keys if isinstance(rec.get(k), (int, float)))
        if rec.get("verdict"):
            shown += f" verdict={rec['verdict']}"
        print(f"[{rec.get('phase', 'train')} {rec.get('epoch', '?')}] {shown}", file=sys.stderr, flush=True)

    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, lambda *_: stop.set())  # Ctrl-C: cancel, keep the history
    try:
        print(f"run {run.run_id} in {run.path}", file=sys.stderr, flush=True)
        try:
            execute(run, cfg, new.split, on_event=on_event, should_stop=stop.is_set)
        except OSError:
            if not run.files.has(CONFIG):
                raise DeepADError(f"run folder {run.path} was removed while the run trained; nothing of "
                                  "the run is kept (train it again)") from None
            raise
    finally:
        signal.signal(signal.SIGINT, previous)
    TRAINED.set()
    if not run.files.has(CONFIG):
        raise DeepADError(f"run folder {run.path} was removed while the run trained; nothing of the run "
                          "is kept (train it again)")
    run = store.get(run.run_id)
    if run.state != "finished":
        print(f"run {run.state}: {run.status.get('error') or ''} {run.status.get('hint') or ''}".rstrip(),
              file=sys.stderr)
    print(json.dumps(run_line(run)))
    return {"finished": 0, "cancelled": 130}.get(run.state, 1)


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
            raise DeepADError(f"{flag_for(name)} is given both as a fixed option and as --grid {name}; keep one")
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


def check_axes_matter(args: argparse.Namespace, configs: list[dict]) -> None:
    """DeepADError for a --grid axis that cannot change any trial (k without --reg noise, say): the
    detector's declared `when` rules, judged on every (validated) trial's settings, so an axis a
    rule depends on (--grid reg=none,noise) lets the other matter in some trials; as Explore refuses it."""
    from deepad.detectors import registry
    from deepad.detectors.settings import setup_facts
    from deepad.sweeps import parse_axis
    from deepad.sweeps.ranges import irrelevant

    names = [parse_axis(text)[0] for text in args.grid]
    if not configs:
        return
    config_cls = registry.spec(configs[0]["method"]).Config
    for name in names:
        if name not in config_cls.model_fields:
            continue
        reasons = [irrelevant(config_cls, name, c.get("params") or {}, setup_facts(c.get("setup"))) for c in configs]
        if all(reasons):
            raise DeepADError(f"--grid {name}: {reasons[0]}")


def cmd_sweep(args) -> int:
    from deepad.runs.listing import RunStore
    from deepad.sweeps import check_address, new_sweep_id, resolve_address
    from deepad.sweeps.runs import create_runs, validate_all

    if args.max_concurrent is not None and args.max_concurrent < 1:
        raise DeepADError(f"--max-concurrent={args.max_concurrent}: give at least 1")
    sweep_id = new_sweep_id()
    configs = sweep_configs(args, sweep_id)
    cfgs = validate_all(configs)  # every trial, before anything is written or submitted
    check_axes_matter(args, [t.config.model_dump() for t in cfgs])
    address = resolve_address(args.ray_address)
    if address:
        check_address(address)
    store = RunStore(args.runs_dir)
    trials = create_runs(cfgs, store)
    return run_and_report(trials, store, sweep_id, address=address, max_concurrent=args.max_concurrent,
                          shared=args.shared_runs_dir, quiet=args.quiet)


def cmd_reproduce(args) -> int:
    """`reproduce PAPER`: the paper's arms × classes × seeds as one sweep on Ray (or, with
    --dry-run, the trials printed); one JSON line per table row, the table, and the reproduction
    saved in the runs folder for the Papers page."""
    from deepad import reproduce as rp
    from deepad.data.datasets import dataset_info
    from deepad.runs.listing import RunStore
    from deepad.sweeps import check_address, resolve_address, split_values

    def numbers(text, flag):
        try:
            return [int(v) for v in split_values(text, flag)]
        except ValueError:
            raise DeepADError(f"{flag} {text!r}: give whole numbers, e.g. 0,1,2 or 0..4") from None

    plan = rp.get_plan(args.paper)
    classes = None if args.classes is None else numbers(args.classes, "--classes")
    seeds = numbers(args.seeds, "--seeds")
    if dataset_info(args.dataset).embedded:
        from deepad.data.datasets import load_dataset

        n_classes = len(load_dataset(args.dataset).classes)
    else:
        n_classes = 10
    configs = rp.trials(plan.key, classes, seeds, args.checkpoint, args.dataset, n_classes, args.quick)
    if args.dry_run:
        for c in configs:
            tag = c["reproduce"]
            print(json.dumps({"paper": tag["paper"], "row": tag["row"], "method": c["method"],
                              "params": c["params"], "setup": c["setup"], "normal": tag["normal"],
                              "seed": tag["seed"], "dataset": c["dataset"]}))
        return 0
    if args.max_concurrent is not None and args.max_concurrent < 1:
        raise DeepADError(f"--max-concurrent={args.max_concurrent}: give at least 1")
    from deepad.sweeps.runs import create_runs, validate_all

    rid = rp.new_reproduction_id(plan.key)
    tags = [c.pop("reproduce") for c in configs]
    for i, c in enumerate(configs):
        c["sweep"] = {"id": rid, "axes": ["normal", "seed"], "trial": i, "trials": len(configs)}
    cfgs = validate_all(configs)
    address = resolve_address(args.ray_address)
    if address:
        check_address(address)
    store = RunStore(args.runs_dir)
    trials = create_runs(cfgs, store)
    quiet_line = io.StringIO()
    with contextlib.redirect_stdout(quiet_line):  # the per-trial lines: the table is the output here
        code = run_and_report(trials, store, rid, address=address, max_concurrent=args.max_concurrent,
                              quiet=args.quiet)
    results = []
    for (run, _cfg), tag in zip(trials, tags):
        run = store.get(run.run_id)
        results.append({"reproduce": tag, "run_id": run.run_id, "state": run.state,
                        "auc": run.summary.get("auc") if run.state == "finished" else None,
                        "val_auc": rp.run_val_auc(run) if run.state == "finished" else None})
    rows = rp.table_rows(plan.key, results)
    command = "python -m deepad reproduce " + " ".join(shlex.quote(a) for a in _reproduce_argv(args))
    rp.write_reproduction(store.root, {"id": rid, "paper": plan.key, "title": plan.title, "note": plan.note,
                                       "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "command": command,
                                       "dataset": args.dataset, "classes": classes, "seeds": seeds,
                                       "checkpoint": args.checkpoint, "quick": args.quick, "rows": rows})
    for row in rows:
        print(json.dumps(row))
    print(f"\n{plan.title} (reproduce {plan.key})\n{plan.note}\n")
    print(rp.markdown_table(rows))
    return code


def _reproduce_argv(args) -> list[str]:
    out = [args.paper]
    for flag, value in (("--classes", args.classes), ("--seeds", args.seeds), ("--checkpoint", args.checkpoint),
                        ("--dataset", args.dataset)):
        if value is not None:
            out += [flag, str(value)]
    return out + (["--quick"] if args.quick else [])


def cmd_list(args) -> int:
    from deepad.runs.listing import RunStore

    for run in RunStore(args.runs_dir).list():
        s = run.summary
        row = {"run_id": run.run_id, "state": run.state, "method": run.config.get("method"),
               "dataset": run.config.get("dataset"), "normal": (run.config.get("setup") or {}).get("normal"),
               "auc": s.get("auc"), "collapsed": s.get("collapsed")}
        if run.damage:
            row["damaged"] = run.damage
        print(json.dumps(row))
    return 0


def cmd_show(args) -> int:
    from deepad.runs.listing import RunStore

    run = RunStore(args.runs_dir).get(args.run_id)
    out = run.to_json()
    out["verdict"] = run.summary.get("verdict")  # null where the hypersphere verdict does not apply
    # the epoch whose weights score (deep detectors; null for the shallow ones)
    out["checkpoint"], out["checkpoint_epoch"] = run.summary.get("checkpoint"), run.summary.get("checkpoint_epoch")
    if args.history:
        out["history"] = run.history()
    print(json.dumps(out, indent=1))
    return 0


def cmd_score(args) -> int:
    from deepad.scoring import score_file
    from deepad.runs.listing import RunStore

    for row in score_file(RunStore(args.runs_dir).get(args.run_id), args.data):
        print(json.dumps(row))
    return 0


def cmd_methods(args) -> int:
    from deepad.detectors import registry

    for name, spec in registry.specs().items():
        row = {"method": name, "title": spec.title, "summary": spec.summary}
        if args.verbose:
            row["params"] = spec.Config().model_dump()
        print(json.dumps(row))
    return 0


def cmd_datasets(_args) -> int:
    from deepad.data.datasets import CATALOG

    for info in CATALOG.values():
        print(json.dumps({"dataset": info.name, "title": info.title, "kind": info.kind,
                          "embedded": info.embedded, "description": info.description}))
    return 0


def cmd_presets(_args) -> int:
    from deepad.presets import load_presets

    for p in load_presets().values():
        row = {"preset": p.name, "title": p.title, "group": p.group, "method": p.config["method"],
               "dataset": p.config["dataset"], "description": p.description}
        if p.lesson:
            row.update(kind=p.kind, lesson=p.lesson, role=p.role, differs_in=list(p.differs_in), pair=p.pair)
        print(json.dumps(row))
    return 0


def cmd_export(args) -> int:
    from deepad.export import export_runs

    print(json.dumps(export_runs(args.run_ids, args.fmt, args.out, args.runs_dir), indent=1))
    return 0


def cmd_diagnose(args) -> int:
    from deepad.diagnose import diagnose_file

    print(json.dumps(diagnose_file(args.file), indent=1))
    return 0


def cmd_app(streamlit_options: list[str]) -> int:
    """Start the dashboard: `serve.py` (the checkout's, or the copy inside an installed package)
    in this process's place. The dashboard's Streamlit settings (.streamlit/config.toml beside
    serve.py) are passed as options, so they hold whatever the current folder; options given on
    the command line win."""
    import os
    import tomllib

    from deepad.resources import dashboard_dir

    folder = dashboard_dir()
    serve = folder / "serve.py"
    if not serve.is_file():
        raise DeepADError(f"the dashboard is not in this installation ({serve} is missing); reinstall the package "
                          "with `pip install deepad` or run `make run` in a checkout")
    settings = []
    config = folder / ".streamlit" / "config.toml"
    if config.is_file():
        for section, values in tomllib.loads(config.read_text(encoding="utf-8")).items():
            for key, value in values.items():
                flag = f"--{section}.{key}"
                if not any(o == flag or o.startswith(flag + "=") for o in streamlit_options):
                    settings += [flag, str(value).lower() if isinstance(value, bool) else str(value)]
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, str(serve), *settings, *streamlit_options])
    return 0  # not reached: execv replaces this process


TRAINED = threading.Event()  # set by `train` once its run has ended
