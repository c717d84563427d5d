"""ROC and precision-recall curves, the score histogram and the confusion matrix."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from deepad.figures.style import PALETTE, TRUTH_COLOURS, layout


def _operating_point(fig: go.Figure, x: float, y: float, what: str) -> None:
    fig.add_trace(go.Scatter(x=[x], y=[y], mode="markers+text", name="at the threshold", text=[what],
                             textposition="bottom right", hovertemplate=f"{what}<extra>at the threshold</extra>",
                             marker=dict(symbol="circle", size=14, color="black", line=dict(color="white", width=2))))


def roc_figure(curves: list, point: dict | None = None) -> go.Figure:
    """ROC curves; `point` (metrics at the current threshold of the first run: fpr, recall) is
    marked on its curve."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance",
                             line=dict(dash="dot", color="grey"), hoverinfo="skip"))
    for i, c in enumerate(curves):
        auc = f"{c.auc:.3f}" if c.auc is not None else "n/a"
        fig.add_trace(go.Scatter(x=c.fpr, y=c.tpr, mode="lines", name=f"{c.label} (AUC {auc})",
                                 line=dict(color=PALETTE[i % len(PALETTE)], width=2.5), hovertemplate="false positive rate %{x:.3f}<br>true positive rate %{y:.3f}"))
    if point is not None:
        _operating_point(fig, point["fpr"], point["recall"],
                         f"FPR {point['fpr']:.2f}, TPR {point['recall']:.2f}")
    fig.update_xaxes(title="false positive rate (normal samples flagged)", range=[0, 1])
    fig.update_yaxes(title="true positive rate (anomalies caught)", range=[0, 1.01])
    return layout(fig, "ROC curve", legend_title_text="")


def pr_figure(curves: list, point: dict | None = None) -> go.Figure:
    """Precision–recall curves of the curves' positive class (anomaly, or normal: most normal
    first); each legend entry says its AP and its test set's share of anomalies, on which AP and
    the chance line depend. `point` (recall, precision of the anomaly class at the current
    threshold) is marked on anomaly curves."""
    fig = go.Figure()
    positive = curves[0].positive if curves else "anomaly"
    noun = "anomalies" if positive == "anomaly" else "normal samples"
    for i, c in enumerate(curves):
        ap = f"{c.ap:.3f}" if c.ap is not None else "n/a"
        share = f", {100 * c.anomaly_share:.0f} % anomalies" if c.anomaly_share is not None else ""
        fig.add_trace(go.Scatter(x=c.recall, y=c.precision, mode="lines", name=f"{c.label} (AP {ap}{share})",
                                 line=dict(color=PALETTE[i % len(PALETTE)], width=2.5), hovertemplate="recall %{x:.3f}<br>precision %{y:.3f}"))
    if curves:
        fig.add_hline(y=curves[0].base_rate, line=dict(dash="dot", color="grey"),
                      annotation_text=f"share of {noun} (chance)", annotation_position="bottom right")
    if point is not None and positive == "anomaly":
        _operating_point(fig, point["recall"], point["precision"],
                         f"recall {point['recall']:.2f}, precision {point['precision']:.2f}")
    caught = "anomalies caught" if positive == "anomaly" else "normal samples kept as normal"
    fig.update_xaxes(title=f"recall ({caught})", range=[0, 1])
    fig.update_yaxes(title=f"precision (called {positive} that are {positive})", range=[0, 1.01])
    title = "Precision–recall curve" + ("" if positive == "anomaly" else ", normal as the positive class")
    return layout(fig, title)


def score_histogram(scores: np.ndarray, truth: np.ndarray, threshold: float | None = None,
                    log_x: bool = False, title: str = "Anomaly scores") -> go.Figure:
    fig = go.Figure()
    s = np.asarray(scores, dtype=np.float64)
    if log_x:
        s = np.log10(np.maximum(s - min(0.0, s.min()), 0) + 1e-12)
    for name, val in (("normal", 0), ("anomaly", 1)):
        fig.add_trace(go.Histogram(x=s[truth == val], name=f"{name} ({int(np.sum(truth == val))})",
                                   opacity=0.6, nbinsx=60, bingroup=1, histnorm="percent",
                                   marker_color=TRUTH_COLOURS[name]))
    if threshold is not None:
        t = np.log10(max(threshold - min(0.0, float(np.min(scores))), 0) + 1e-12) if log_x else threshold
        fig.add_vline(x=t, line=dict(color="black", dash="dash"), annotation_text="threshold")
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title="log₁₀ score" if log_x else "anomaly score (higher = more anomalous)")
    fig.update_yaxes(title="% of the group")
    return layout(fig, title)


def confusion_figure(m: dict) -> go.Figure:
    z = [[m["tn"], m["fp"]], [m["fn"], m["tp"]]]
    text = [[f"{m['tn']}<br>true negatives", f"{m['fp']}<br>false positives"],
            [f"{m['fn']}<br>false negatives", f"{m['tp']}<br>true positives"]]
    fig = go.Figure(go.Heatmap(z=z, x=["predicted normal", "predicted anomaly"],
                               y=["truly normal", "truly anomalous"], text=text,
                               texttemplate="%{text}", colorscale="Blues", showscale=False,
                               hoverinfo="skip"))
    fig.update_yaxes(autorange="reversed")
    return layout(fig, "Confusion matrix at the threshold", height=300)
