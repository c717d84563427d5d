"""Hypersphere-collapse diagnostics for the methods that pull embeddings to a centre c.

Collapse means φ has become (nearly) constant: every input, normal or not, lands on the same
point, so distances to c no longer tell anything. Deep SVDD is *meant* to shrink the cloud of
training embeddings towards c, so shrinking alone is not collapse; what matters is how much of the
cloud's variation is left compared with where the run started.

The measure, on a fixed probe of the *training* samples the method pulls to c:

- `spread`: RMS spread of φ around its own mean (the square root of the mean per-dimension
  variance). It does not depend on where the cloud sits, so neither c nor an offset of φ enters.
- `spread_ratio`: `spread` divided by the same number at the run's reference point: the start of
  the centre phase (after any pretraining, once c is set). 1 means as spread out as at the start.
- shown, never deciding: `eff_rank` (effective rank of the centred probe embeddings; a cloud can be
  anisotropic and healthy), `const_dims` (dimensions whose standard deviation fell below
  `CONSTANT_DIM_SHARE` of the reference spread) and `dist_mean` (mean distance to c).

The verdict (the rule is written once, here; `rule_text()` renders it for the README, the
Collapse page and the CLI): **collapsed** once `spread_ratio` falls below `COLLAPSED_BELOW`,
**at risk** below `AT_RISK_BELOW`, else **healthy**. A collapsed run stays collapsed until its ratio
is back above `AT_RISK_BELOW`, and a run at risk is healthy again only once the ratio clears
`AT_RISK_BELOW` by the factor `HYSTERESIS`, so a ratio wobbling around a threshold does not flip the
verdict from epoch to epoch (a collapsed network trained by Adam at a high learning rate jitters:
its ratio jumps from 1e-4 to 0.02 and back between epochs). The final verdict is the same rule applied to the
trained model's embeddings of the same training probe, continuing from the last epoch's verdict.
The thresholds come from `bench/collapse_lessons.py` (table in the README): the collapsing
triggers end below 0.005 of their reference spread (most below 1e-3), the healthy runs (every fix,
and default Deep SVDD with pretraining, which shrinks its cloud about 12× in 30 epochs) stay above
0.05.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

COLLAPSED_BELOW = 0.01
AT_RISK_BELOW = 0.03
HYSTERESIS = 1.5
CONSTANT_DIM_SHARE = 1e-3
VERDICTS = ("healthy", "at risk", "collapsed")  # best first
PROBE_SIZE = 512
REFERENCE_POINT = "the start of the centre phase (after any pretraining, once c is set)"


def spread(emb: np.ndarray) -> float:
    """RMS spread of the rows of `emb` around their mean (translation-invariant)."""
    emb = np.asarray(emb, dtype=np.float64).reshape(len(emb), -1)
    return float(np.sqrt(np.mean(np.var(emb, axis=0)))) if len(emb) > 1 else 0.0


def effective_rank(emb: np.ndarray) -> float:
    """exp of the entropy of the normalised singular values of the centred rows: 1 when a single
    direction carries all the variation, the dimension when all carry it equally."""
    emb = np.asarray(emb, dtype=np.float64).reshape(len(emb), -1)
    centred = emb - emb.mean(axis=0)
    # singular values from the eigenvalues of the small Gram matrix (dims × dims): the same numbers
    # as an SVD of the rows, at a fraction of its cost every epoch
    gram = centred.T @ centred if centred.shape[0] >= centred.shape[1] else centred @ centred.T
    s = np.sqrt(np.clip(np.linalg.eigvalsh(gram), 0.0, None))
    total = s.sum()
    if total <= 1e-300:
        return 0.0
    p = s / total
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))


def judge(ratio: float | None, previous: str | None = None) -> str | None:
    """The verdict for one measurement, given the verdict before it (hysteresis): a worse verdict
    follows at once; a collapsed run stays collapsed until its ratio is back above the at-risk
    boundary, and a run at risk becomes healthy only once the ratio clears that boundary by
    HYSTERESIS."""
    if ratio is None or not np.isfinite(ratio):
        return previous
    plain = ("collapsed" if ratio < COLLAPSED_BELOW else "at risk" if ratio < AT_RISK_BELOW
             else "healthy")
    if previous not in VERDICTS or VERDICTS.index(plain) >= VERDICTS.index(previous):
        return plain  # the same or worse: follow at once
    if previous == "collapsed" and ratio < AT_RISK_BELOW:
        return "collapsed"
    return "at risk" if ratio < AT_RISK_BELOW * HYSTERESIS else "healthy"


def verdict_trail(ratios) -> list[str | None]:
    """The verdict after each of a sequence of spread ratios."""
    out, v = [], None
    for r in ratios:
        v = judge(r, v)
        out.append(v)
    return out


def measure(emb: np.ndarray, reference_spread: float, center: np.ndarray | None = None) -> dict:
    """The collapse numbers of probe embeddings against the reference spread."""
    emb = np.asarray(emb, dtype=np.float64).reshape(len(emb), -1)
    s = spread(emb)
    ref = max(float(reference_spread), 1e-300)
    out = {"spread": s, "spread_ratio": s / ref, "eff_rank": effective_rank(emb),
           "const_dims": int(np.sum(emb.std(axis=0) < CONSTANT_DIM_SHARE * ref)), "dims": emb.shape[1]}
    if center is not None:
        out["dist_mean"] = float(np.sqrt(((emb - np.asarray(center, dtype=np.float64)) ** 2).sum(1)).mean())
    return out


@dataclass
class CollapseMonitor:
    """Follows a centre method's training probe from the reference point on.

    `start(emb)` records the reference; `epoch(emb, center)` gives the numbers and the verdict
    (with hysteresis) for one epoch's record; `final(emb, center)` the same for the trained model."""

    reference_spread: float | None = None
    reference_dist: float | None = None
    last: str | None = None
    history: list[float] = field(default_factory=list)

    def start(self, emb: np.ndarray, center: np.ndarray | None = None) -> None:
        self.reference_spread = spread(emb)
        self.reference_dist = (measure(emb, 1.0, center).get("dist_mean") if center is not None else None)
        self.last, self.history = None, []

    def epoch(self, emb: np.ndarray, center: np.ndarray | None = None) -> dict:
        if self.reference_spread is None:
            self.start(emb, center)
        rep = measure(emb, self.reference_spread, center)
        self.last = judge(rep["spread_ratio"], self.last)
        self.history.append(rep["spread_ratio"])
        rep["verdict"] = self.last
        return rep

    def final(self, emb: np.ndarray, center: np.ndarray | None = None) -> dict:
        rep = self.epoch(emb, center)
        rep.update(reference_spread=self.reference_spread, reference_dist=self.reference_dist,
                   collapsed=rep["verdict"] == "collapsed", measured_on="training probe")
        return rep


def probe_rows(n: int, seed: int) -> np.ndarray:
    """The fixed rows of the training samples whose embeddings are measured every epoch."""
    rng = np.random.default_rng(seed + 7919)
    return np.sort(rng.permutation(n)[:PROBE_SIZE])


def final_report(detector, train) -> dict | None:
    """The final collapse numbers and verdict on the training probe, for a detector whose
    declaration says the hypersphere verdict applies and that recorded a reference; None (the
    verdict does not apply) otherwise."""
    monitor = getattr(detector, "collapse_monitor", None)
    if not getattr(detector.spec, "hypersphere", False) or monitor is None or monitor.reference_spread is None:
        return None
    pulled = train.x[train.known_label != -1]
    emb = detector.embed(pulled[probe_rows(len(pulled), detector.seed)])
    return monitor.final(emb, detector.center)


def collapse_summary(report: dict | None) -> dict:
    """The run summary's collapse fields; the verdict is None where it does not apply."""
    keys = ("verdict", "collapsed", "spread_ratio", "eff_rank", "const_dims")
    return {k: (report or {}).get(k) for k in keys}


def rule() -> dict:
    """The verdict rule as numbers (the CLI prints it with every verdict)."""
    return {"measure": "spread_ratio", "collapsed_below": COLLAPSED_BELOW, "at_risk_below": AT_RISK_BELOW,
            "hysteresis": HYSTERESIS, "reference": REFERENCE_POINT, "measured_on": "training probe"}


def rule_text() -> str:
    """The verdict rule in words, rendered from the constants above."""
    return (
        f"**How the verdict is reached.** After every epoch a fixed probe of up to {PROBE_SIZE} training "
        "samples is embedded and its *spread* is measured: the RMS distance of the embeddings from "
        "their own mean (where the cloud sits does not matter, only how spread out it is). The "
        f"*spread ratio* divides it by the spread at {REFERENCE_POINT}. "
        f"**Collapsed** when the spread ratio is below {COLLAPSED_BELOW:g} (less than "
        f"{100 * COLLAPSED_BELOW:g} % of the starting spread is left), **at risk** below "
        f"{AT_RISK_BELOW:g}, otherwise **healthy**. A verdict improves only on a clear recovery "
        f"(hysteresis): a collapsed run stays collapsed until the ratio is back above {AT_RISK_BELOW:g}, "
        f"and a run at risk is healthy again once it clears {AT_RISK_BELOW:g} by ×{HYSTERESIS:g}, so "
        "the verdict does not flip on noise. The final "
        "verdict is measured on the training probe with the trained model. Effective rank and "
        "constant dimensions are shown as numbers: an elongated cloud is not a collapsed one. "
        "The verdict applies only to methods that pull embeddings to a centre (Deep SVDD, Deep "
        "SVDD-VAE).")


NOT_APPLICABLE = ("The hypersphere collapse verdict does not apply to this method: it does not pull "
                  "its embeddings to a centre, so a small or elongated cloud says nothing about its "
                  "scores. Its own training curves are shown instead.")

EXPLANATION = (
    "Deep SVDD pulls every training sample towards a centre c. A network that can output the same "
    "point for every input (φ ≡ c) reaches the minimum loss without learning anything: the "
    "hypersphere has collapsed and its scores no longer separate anomalies. Bias terms let the last "
    "layer output c directly, a learnable centre can move to wherever the network is constant, and "
    "strong weight decay or a high learning rate push the weights there (once the layers pass nothing on, "
    "only the last bias is left). Ruff et al. remove the bias terms and keep c fixed; Chong et al. "
    "keep them and add regularizers. In the lesson, BatchNorm without a learnable shift or scale keeps "
    "every hidden feature at unit variance over each minibatch, so no layer can fall silent, and a "
    "gentler weight decay lets the network learn a description of the normal class. Each change alone "
    "is not enough here: without BatchNorm, weight decay 0.01 still collapses; with BatchNorm, weight "
    "decay 0.1 keeps the spread but detects poorly on some digits.")
