"""`python -m deepad ...`: train a run (from options or a preset), list and show runs, score your own
inputs with a finished run, list methods, datasets and presets.

Method hyperparameters become flags automatically from each detector's config (`--nu`, `--k`,
`--alpha`, ...), so the CLI, the dashboard and the tests share one definition and one validation.
Bad input: one line on stderr naming the parameter, the value and what is allowed; exit status 2;
nothing written. The last line printed by `train` is one JSON object.

`options` maps the command line to a run config and back (`train_command`); `commands` holds what
each command does.
"""

from __future__ import annotations

import os
import sys

from pydantic import ValidationError

from deepad.cli.commands import (TRAINED, cmd_app, cmd_datasets, cmd_diagnose, cmd_export, cmd_list, cmd_methods,
                                 cmd_presets, cmd_reproduce, cmd_score, cmd_show, cmd_sweep, cmd_train)
from deepad.cli.options import EXIT_BAD_INPUT, build_parser, config_from_args, flag_for, train_command
from deepad.errors import DeepADError, describe_os_error

__all__ = ["EXIT_BAD_INPUT", "build_parser", "config_from_args", "flag_for", "main",
           "run_command_line", "train_command", "console"]


def console() -> None:
    """The `deepad` command (the console script an installed package puts on the PATH)."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as `python -m deepad` (deepad/__main__.py)
    run_command_line(prog="deepad")


def run_command_line(prog: str = "python -m deepad") -> None:
    """`python -m deepad`: run `main` and exit with its status. After `train` the process ends
    without the interpreter's teardown, which takes seconds once torch is loaded; every file of
    the run is closed and in place by then."""
    code = main(prog=prog)
    if TRAINED.is_set():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def main(argv: list[str] | None = None, prog: str = "python -m deepad") -> int:
    parser = build_parser(prog)
    try:
        args, unknown = parser.parse_known_args(argv)
        if unknown and args.command not in ("app", "dashboard"):  # app: the rest are `streamlit run` options
            parser.commands[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    except SystemExit as exc:  # argparse's errors (already printed, exit 2) and --help (exit 0)
        return int(exc.code or 0)
    handler = {"train": cmd_train, "sweep": cmd_sweep, "list": cmd_list, "show": cmd_show, "score": cmd_score,
               "methods": cmd_methods, "datasets": cmd_datasets, "presets": cmd_presets, "reproduce": cmd_reproduce,
               "diagnose": cmd_diagnose, "export": cmd_export, "app": lambda _: cmd_app(unknown),
               "dashboard": lambda _: cmd_app(unknown)}[args.command]
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
