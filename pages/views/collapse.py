"""The Collapse page's numbers: why the verdict says what it says, the settings that decide it
and each method's curves."""

from __future__ import annotations

from deepad.runs.read import RunRecord


def _rule() -> str:
    from deepad.diagnostics import rule_text

    return rule_text()


VERDICT_RULE = _rule()


def verdict_reasons(latest: dict, dim: int | None) -> list[str]:
    """Plain sentences saying what the numbers show; only the spread ratio decides."""
    from deepad.diagnostics import AT_RISK_BELOW, COLLAPSED_BELOW

    out = []
    ratio, rank, const = latest.get("spread_ratio"), latest.get("eff_rank"), latest.get("const_dims")
    if ratio is not None:
        if ratio < COLLAPSED_BELOW:
            out.append(f"spread ratio {ratio:.2g} < {COLLAPSED_BELOW:g}: less than {100 * COLLAPSED_BELOW:g} % "
                       "of the starting spread is left, every input lands on almost one point")
        elif ratio < AT_RISK_BELOW:
            out.append(f"spread ratio {ratio:.2g} < {AT_RISK_BELOW:g}: the cloud has lost most of its spread")
        else:
            out.append(f"spread ratio {ratio:.2g}: the cloud keeps {100 * min(ratio, 1):.0f} % or more of its "
                       "starting spread" if ratio < 1 else f"spread ratio {ratio:.2g}: the cloud is at least "
                       "as spread out as at the start")
    if rank is not None and dim:
        out.append(f"effective rank {rank:.1f} of {dim} (shown, not judged: an elongated cloud is not collapsed)")
    if const is not None and dim:
        out.append(f"{int(const)} of {dim} dimensions are constant")
    return out


def config_rows(a: RunRecord, b: RunRecord) -> list[dict]:
    """The settings in which two runs differ: one row per key with both values."""
    from deepad.presets import config_difference

    def flat(cfg: dict) -> dict:
        from deepad.detectors import registry

        out = {}
        for k, v in cfg.items():
            if k == "params" and cfg.get("method") in registry.specs():
                try:
                    v = registry.spec(cfg["method"]).Config(**(v or {})).model_dump()
                except ValueError:
                    pass
            if isinstance(v, dict):
                out.update({(kk if k == "params" else f"{k}.{kk}"): vv for kk, vv in v.items()})
            elif k != "title":
                out[k] = v
        return out

    keys = config_difference(a.config, b.config)
    fa, fb = flat(a.config), flat(b.config)
    return [{"setting": k, "left": str(fa.get(k, "–")), "right": str(fb.get(k, "–"))} for k in keys]


def method_curves(method: str | None) -> tuple[list[str], dict[str, str], str]:
    """For a method the verdict does not apply to: its loss components (as it names them), their
    captions, and a sentence on what they show. Phases are plotted apart (see `phase_frames`)."""
    from deepad.views.runs import loss_names

    names = loss_names(method)
    return list(names), names, ("The method's own losses, as it names them, one panel per training "
                                "phase (phases restart their epoch count).")
