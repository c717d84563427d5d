"""Sweeps: a grid of settings trained as a set of ordinary runs.

A sweep is the product of its axes (`k=5,50` × `lr=1e-4,1e-3` × seeds × normal classes); every
combination is a trial, and every trial is a run like any other (validated config -> run folder
with config, history, results and model), so the pages, `list` and `show` read sweep runs
unchanged. Each run's config names its sweep (`config["sweep"]`: id, axes, trial number), which is
how the Explore page and scripts find a sweep's runs again.

This module is light (no torch, no Ray): it parses axes and expands them into run configs. The
trials are validated and their folders created by `prepare`; the Ray engine
(`deepad.sweeps.engine`) trains them.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import secrets
import socket
import time
from typing import Any, Iterable

from deepad.errors import DeepADError
from deepad.training.config import SWEEP_ID

MAX_TRIALS = 10_000
ENV_ADDRESS = "DEEPAD_RAY_ADDRESS"
RUN_LEVEL_AXES = ("seed", "normal")  # axes that are not method or set-up settings


def new_sweep_id() -> str:
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


def split_values(text: str, name: str) -> list[str]:
    """'0,3,5' -> ['0', '3', '5']; '0..9' (whole numbers, both ends included) -> ['0', ..., '9'].
    Values stay text: the run config's validation turns them into numbers and checks them."""
    out: list[str] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        m = re.fullmatch(r"(-?\d+)\s*\.\.\s*(-?\d+)", part)
        if m:
            lo, hi = int(m.group(1)), int(m.group(2))
            if hi < lo:
                raise DeepADError(f"{name}={text}: the range {part} is empty; write it low..high, e.g. 0..9")
            if hi - lo >= MAX_TRIALS:
                raise DeepADError(f"{name}={text}: the range {part} has more than {MAX_TRIALS} values")
            out += [str(v) for v in range(lo, hi + 1)]
        else:
            out.append(part)
    if not out:
        raise DeepADError(f"{name}={text!r}: give at least one value, e.g. {name}=1,2 or {name}=0..9")
    return list(dict.fromkeys(out))  # repeated values once, order kept


def parse_axis(text: str) -> tuple[str, list[str]]:
    """'k=5,50' -> ('k', ['5', '50']); the name may be written with dashes (known-anomalies)."""
    name, eq, values = text.partition("=")
    name = name.strip().replace("-", "_")
    if not eq or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise DeepADError(f"--grid {text!r}: write it NAME=V1,V2,..., e.g. --grid k=5,50 or --grid lr=1e-4,1e-3")
    return name, split_values(values, f"--grid {name}")


def axis_place(name: str, method_fields: Iterable[str], setup_fields: Iterable[str]) -> str:
    """Where an axis goes in a run config: "seed", "normal", "setup" or "params"."""
    if name in RUN_LEVEL_AXES:
        return name
    if name in method_fields:
        return "params"
    if name in setup_fields:
        return "setup"
    raise DeepADError(f"--grid {name}: not a setting of this method or set-up; it may vary: seed, normal, "
                      + ", ".join(sorted(set(method_fields) | set(setup_fields))))


def count_trials(axes: dict[str, list]) -> int:
    return math.prod(len(v) for v in axes.values()) if axes else 1


def check_size(axes: dict[str, list]) -> int:
    n = count_trials(axes)
    if n == 0:
        raise DeepADError("the grid is empty: every axis needs at least one value")
    if n > MAX_TRIALS:
        sizes = " × ".join(f"{len(v)} {k}" for k, v in axes.items())
        raise DeepADError(f"the grid has {n} trials ({sizes}); at most {MAX_TRIALS} are allowed in one sweep: "
                          "split it into several sweeps")
    return n


def expand(base: dict, axes: dict[str, list], sweep_id: str, method_fields: Iterable[str],
           setup_fields: Iterable[str]) -> list[dict]:
    """One run config per combination of the axes' values (the last axis varies fastest), each
    tagged with the sweep. `normal` values may be a class number or a list of them (n-vs-m)."""
    check_size(axes)
    if not SWEEP_ID.fullmatch(sweep_id):
        raise DeepADError(f"sweep id {sweep_id!r}: use letters, digits, '-' and '_' only")
    method_fields, setup_fields = set(method_fields), set(setup_fields)
    places = {name: axis_place(name, method_fields, setup_fields) for name in axes}
    names = list(axes)
    combos = list(itertools.product(*(axes[n] for n in names)))
    out = []
    for i, combo in enumerate(combos):
        cfg = {**base, "params": dict(base.get("params") or {}), "setup": dict(base.get("setup") or {})}
        for name, value in zip(names, combo):
            place = places[name]
            if place == "seed":
                cfg["seed"] = value
            elif place == "normal":
                cfg["setup"]["normal"] = _classes(value)
            else:
                cfg[place][name] = value
        cfg["sweep"] = {"id": sweep_id, "axes": names, "trial": i, "trials": len(combos)}
        label = ", ".join(f"{n}={_short(v)}" for n, v in zip(names, combo))
        cfg["title"] = f"{base['title']} · {label}" if base.get("title") else label
        out.append(cfg)
    return out


def _classes(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str) and "+" in value:  # "0+1" on the command line: normal classes 0 and 1
        return [v.strip() for v in value.split("+")]
    return [value]


def _short(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (list, tuple)):
        return "+".join(_short(x) for x in v)
    return str(v)


def axis_values(config: dict, name: str) -> Any:
    """The value a run's config has for a sweep axis (for tables, heatmaps and scripts)."""
    if name == "seed":
        return config.get("seed")
    if name == "normal":
        normal = (config.get("setup") or {}).get("normal") or []
        return normal[0] if len(normal) == 1 else "+".join(map(str, normal))
    params = config.get("params") or {}
    if name in params:
        return params[name]
    return (config.get("setup") or {}).get(name)


def sweep_of(config: dict) -> dict | None:
    """The sweep tag of a run's config, or None for a run that is no sweep's trial."""
    tag = config.get("sweep")
    return tag if isinstance(tag, dict) and isinstance(tag.get("id"), str) else None


def group_runs(runs: Iterable) -> dict[str, dict]:
    """Sweeps found among runs (RunRecords): id -> {"axes", "trials", "runs", "created"}, newest first."""
    sweeps: dict[str, dict] = {}
    for r in runs:
        tag = sweep_of(r.config)
        if tag is None:
            continue
        s = sweeps.setdefault(tag["id"], {"axes": list(tag.get("axes") or []), "trials": tag.get("trials", 0),
                                          "runs": [], "created": r.run_id})
        s["runs"].append(r)
        s["created"] = min(s["created"], r.run_id)
    return dict(sorted(sweeps.items(), key=lambda kv: kv[1]["created"], reverse=True))


def resolve_address(address: str | None) -> str | None:
    return address or os.environ.get(ENV_ADDRESS) or None


def check_address(address: str) -> None:
    """A quick, clear refusal for an address that is malformed or where nothing listens (Ray's own
    client would retry for a long time before failing)."""
    host, sep, port = address.rpartition(":")
    if address.startswith("ray://"):
        raise DeepADError(f"--ray-address {address}: give the cluster's GCS address HOST:PORT "
                          "(as `ray start --head` prints it), not a Ray Client ray:// address")
    if not sep or not host or not port.isdigit():
        raise DeepADError(f"--ray-address {address!r}: expected HOST:PORT, e.g. 10.0.0.5:6379")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as exc:
        raise DeepADError(f"--ray-address {address}: no Ray cluster answers there ({exc.strerror or exc}); "
                          f"start one with `ray start --head --port {port}` or leave the option out "
                          "to use a local Ray instance") from None
