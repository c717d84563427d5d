"""Hypersphere-collapse diagnostics computed from embeddings φ(x).

Collapse means φ has become (nearly) constant: every input, normal or not, lands on the same
point, so distances to the centre no longer tell anything. The numbers:

- `dim_std`: per-dimension standard deviation of φ over the samples.
- `scale`: the size of the representation: max(RMS |φ|, ‖c‖/√p), or a given `reference`.
- `rel_spread`: RMS spread of φ (sqrt of the mean per-dimension variance) divided by `scale`.
- `const_share`: share of dimensions whose std is below 1e-3·scale ("near-constant").
- `eff_rank`: effective rank (exp of the entropy of the normalised singular values of centred φ);
  1 means a single direction carries all the variation, p means all do equally.
- `dist_cv`: spread of the distances to c: their standard deviation over their mean.

Verdict rule (p = dimension of φ):
- **collapsed** when `rel_spread < 1e-3` (every input lands within a thousandth of the
  representation's size of the same point), or `const_share ≥ 0.95`, or when φ is both small in
  spread (`rel_spread < 1e-2`) and squeezed onto few directions (`eff_rank < p/2`);
- **at risk** when `rel_spread < 1e-2`, `const_share ≥ 0.5` or `eff_rank < p/4`;
- else **healthy**.
Shrinking alone is what Deep SVDD is meant to do; a healthy model keeps many directions of
variation while it shrinks (effective rank near p), a collapsing one loses them.
"""

from __future__ import annotations

import numpy as np

COLLAPSE_SPREAD = 1e-3
RISK_SPREAD = 1e-2


def effective_rank(emb: np.ndarray) -> float:
    centred = emb - emb.mean(axis=0)
    s = np.linalg.svd(centred.astype(np.float64), compute_uv=False)
    total = s.sum()
    if total <= 1e-300:
        return 0.0
    p = s / total
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))


def collapse_report(emb: np.ndarray, center: np.ndarray | None = None,
                    reference: float | None = None) -> dict:
    emb = np.asarray(emb, dtype=np.float64)
    dim_std = emb.std(axis=0)
    spread = float(np.sqrt(np.mean(dim_std ** 2)))
    if reference is not None and reference > 0:
        scale = float(reference)
    else:
        scale = float(np.sqrt(np.mean(emb ** 2)))
        if center is not None:
            scale = max(scale, float(np.linalg.norm(center) / np.sqrt(len(center))))
    scale = max(scale, 1e-12)
    rel = spread / scale
    const_share = float(np.mean(dim_std < 1e-3 * scale))
    out = {"rel_spread": rel, "const_share": const_share, "eff_rank": effective_rank(emb),
           "emb_std": float(dim_std.mean()), "scale": scale}
    if center is not None:
        d = np.sqrt(((emb - np.asarray(center)) ** 2).sum(axis=1))
        out["dist_mean"] = float(d.mean())
        out["dist_cv"] = float(d.std() / d.mean()) if d.mean() > 0 else 0.0
    out["verdict"] = verdict(rel, const_share, out["eff_rank"], emb.shape[1])
    out["collapsed"] = out["verdict"] == "collapsed"
    out["dim_std"] = dim_std.tolist()
    return out


def verdict(rel_spread: float, const_share: float, eff_rank: float, dim: int) -> str:
    if (rel_spread < COLLAPSE_SPREAD or const_share >= 0.95
            or (rel_spread < RISK_SPREAD and eff_rank < dim / 2)):
        return "collapsed"
    if rel_spread < RISK_SPREAD or const_share >= 0.5 or eff_rank < dim / 4:
        return "at risk"
    return "healthy"


EXPLANATION = (
    "Deep SVDD pulls every training sample towards a centre c. A network that can output the same "
    "point for every input (φ ≡ c) reaches the minimum loss without learning anything: the "
    "hypersphere has collapsed and its scores no longer separate anomalies. Bias terms and BatchNorm "
    "shifts let the last layer output c directly; a learnable centre can move to wherever the "
    "network is constant; bounded activations (sigmoid, tanh) saturate to constants; a very high "
    "learning rate jumps straight there. Removing biases prevents it by construction; the noise "
    "regularizer (k random labels to predict from φ) and the variance regularizer (a floor on the "
    "minibatch variance) make the constant solution costly.")
