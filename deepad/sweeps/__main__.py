"""`python -m deepad.sweeps SPEC.json`: train a sweep whose run folders already exist (the
dashboard creates them, then starts this process; see `deepad.sweeps.launch`). The spec names the
runs folder, the sweep id, its run ids, and optionally a Ray address and a concurrency limit.
Output as `python -m deepad sweep`: a JSON line per ended trial, the summary last."""

from __future__ import annotations

import json
import sys

from deepad.errors import EXIT_BAD_INPUT, DeepADError


def main(argv: list[str]) -> int:
    from deepad.runs.listing import RunStore
    from deepad.sweeps.report import run_and_report
    from deepad.training.config import RunConfig

    if len(argv) != 1:
        print("usage: python -m deepad.sweeps SPEC.json", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        spec = json.loads(open(argv[0]).read())
        store = RunStore(spec["runs_dir"])
        runs = [store.get(run_id) for run_id in spec["run_ids"]]
        trials = [(run, RunConfig.model_validate(run.config)) for run in runs]
        return run_and_report(trials, store, spec["sweep_id"], address=spec.get("address"),
                                  max_concurrent=spec.get("max_concurrent"), quiet=True)
    except DeepADError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
