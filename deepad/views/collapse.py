"""Whether the collapse verdict applies to a run, its newest numbers and the representation's
size (`deepad.api`'s collapse figure and the Collapse page)."""

from __future__ import annotations

from deepad.runs.read import RunRecord


def verdict_applies(run: RunRecord) -> bool:
    """Whether the run's method declares the hypersphere verdict (it pulls embeddings to c)."""
    from deepad.detectors import registry

    specs = registry.specs()
    method = run.config.get("method")
    return method in specs and specs[method].hypersphere


def latest_collapse(run: RunRecord, history: list[dict], dim: int | None = None) -> dict:
    """The newest collapse numbers: the final report for a finished run, else the last epoch's;
    {} when the verdict does not apply or nothing was measured yet."""
    if not verdict_applies(run):
        return {}
    s = run.summary
    if s.get("verdict"):
        return {k: s.get(k) for k in ("spread_ratio", "eff_rank", "const_dims", "verdict")} | {"final": True}
    for rec in reversed(history):
        if "spread_ratio" in rec:
            return {k: rec.get(k) for k in ("spread_ratio", "eff_rank", "const_dims", "verdict")} | {
                "final": False, "epoch": rec.get("epoch")}
    return {}


def representation_dim(run: RunRecord, results: dict | None = None) -> int | None:
    if results is not None and "test_emb" in results:
        return int(results["test_emb"].reshape(len(results["test_emb"]), -1).shape[1])
    rep = (run.config.get("params") or {}).get("rep_dim")
    if isinstance(rep, int) and rep > 0:  # 0: sized by the input shape, known from the results only
        return rep
    from deepad.detectors import registry

    method = run.config.get("method")
    if method in registry.specs():
        default = registry.spec(method).Config.model_fields.get("rep_dim")
        return default.default if default is not None and default.default else None
    return None
