"""The Collapse page: the verdict and the numbers behind it."""

from __future__ import annotations

from deepad.store import RunRecord

__all__ = ["latest_collapse", "VERDICT_RULE", "verdict_reasons", "representation_dim"]


def latest_collapse(run: RunRecord, history: list[dict], dim: int | None = None) -> dict:
    """The newest collapse numbers: the final report for a finished run, else the last epoch's
    (judged by the same rule when the representation's dimension is known)."""
    from deepad.diagnostics import verdict

    s = run.summary
    if s.get("verdict"):
        return {k: s.get(k) for k in ("rel_spread", "eff_rank", "const_share", "verdict")}
    for rec in reversed(history):
        if "rel_spread" in rec:
            out = {"rel_spread": rec["rel_spread"], "eff_rank": rec.get("eff_rank"),
                   "const_share": rec.get("const_share")}
            if dim and out["eff_rank"] is not None and out["const_share"] is not None:
                out["verdict"] = verdict(out["rel_spread"], out["const_share"], out["eff_rank"], dim)
            else:
                out["verdict"] = "collapsed" if rec.get("collapsed") else None
            return out
    return {}


VERDICT_RULE = (
    "**How the verdict is reached** (φ has p dimensions): **collapsed** when the relative spread is "
    "below 0.001 (every input lands within a thousandth of the representation's size of one "
    "point), or 95 % of the dimensions are constant, or the spread is below 0.01 *and* fewer than "
    "p/2 directions still vary; **at risk** when the spread is below 0.01, half the dimensions are "
    "constant, or fewer than p/4 directions vary; otherwise **healthy**. Shrinking alone is what "
    "Deep SVDD is meant to do; a healthy model keeps many directions of variation while it shrinks.")


def verdict_reasons(latest: dict, dim: int | None) -> list[str]:
    """Plain sentences saying which numbers drive the verdict."""
    from deepad.diagnostics import COLLAPSE_SPREAD, RISK_SPREAD

    out = []
    spread, rank, const = latest.get("rel_spread"), latest.get("eff_rank"), latest.get("const_share")
    if spread is not None:
        if spread < COLLAPSE_SPREAD:
            out.append(f"relative spread {spread:.2g} < {COLLAPSE_SPREAD:g}: everything lands on almost one point")
        elif spread < RISK_SPREAD:
            out.append(f"relative spread {spread:.2g} < {RISK_SPREAD:g}: the embeddings are squeezed together")
        else:
            out.append(f"relative spread {spread:.2g}: the embeddings are still spread out")
    if rank is not None and dim:
        word = "few" if rank < dim / 4 else ("only some" if rank < dim / 2 else "many")
        out.append(f"effective rank {rank:.1f} of {dim}: {word} directions still vary")
    if const is not None:
        out.append(f"{100 * const:.0f} % of the dimensions are constant")
    return out


def representation_dim(run: RunRecord, results: dict | None = None) -> int | None:
    if results is not None and "test_emb" in results:
        return int(results["test_emb"].reshape(len(results["test_emb"]), -1).shape[1])
    rep = (run.config.get("params") or {}).get("rep_dim")
    return rep if isinstance(rep, int) else None
