"""Plotly figures for the dashboard and for exported HTML reports.

Each function takes plain numbers (see `deepad.views`) and returns a `go.Figure`; none
computes anything beyond laying the numbers out. Large point clouds use WebGL (`go.Scattergl`).
"""

from __future__ import annotations

import itertools
import threading

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

NORMAL_COLOUR = "#1f77b4"
ANOMALY_COLOUR = "#d62728"
TRUTH_COLOURS = {"normal": NORMAL_COLOUR, "anomaly": ANOMALY_COLOUR}
VERDICT_COLOURS = {"healthy": "#2ca02c", "at risk": "#ff7f0e", "collapsed": "#d62728"}
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf"]  # distinct colours for several runs or metrics in one chart
_MARGIN = dict(l=10, r=10, t=40, b=10)
_STYLE = threading.local()  # per thread: each dashboard session draws its page in its own thread
PRESENTER = {"font": 19, "title": 24, "line": 4.5, "height": 1.25}  # for a classroom projector


def set_presenter(on: bool) -> None:
    """Larger fonts and thicker lines in every figure built afterwards in this thread."""
    _STYLE.presenter = bool(on)


def presenter() -> bool:
    return getattr(_STYLE, "presenter", False)


def _styled(fig: go.Figure) -> go.Figure:
    if presenter():
        fig.update_layout(font=dict(size=PRESENTER["font"]), title_font_size=PRESENTER["title"],
                          height=int((fig.layout.height or 360) * PRESENTER["height"]))
        fig.update_traces(line_width=PRESENTER["line"], selector=lambda t: t.type == "scatter"
                          and "lines" in (t.mode or "lines"))
        fig.update_annotations(font_size=PRESENTER["font"])
    return fig


def _layout(fig: go.Figure, title: str, height: int = 360, **kw) -> go.Figure:
    """Title on top, legend under the plot (long run names never cover the title)."""
    fig.update_layout(title=dict(text=title, font=dict(size=15)), height=height, margin=_MARGIN,
                      legend=dict(orientation="h", yanchor="top", y=-0.28, xanchor="left", x=0),
                      **kw)
    return _styled(fig)


# --- ROC, PR, scores ---------------------------------------------------------------------------
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
    return _layout(fig, "ROC curve", legend_title_text="")


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
    return _layout(fig, title)


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
    return _layout(fig, title)


def confusion_figure(m: dict) -> go.Figure:
    z = [[m["tn"], m["fp"]], [m["fn"], m["tp"]]]
    text = [[f"{m['tn']}<br>true negatives", f"{m['fp']}<br>false positives"],
            [f"{m['fn']}<br>false negatives", f"{m['tp']}<br>true positives"]]
    fig = go.Figure(go.Heatmap(z=z, x=["predicted normal", "predicted anomaly"],
                               y=["truly normal", "truly anomalous"], text=text,
                               texttemplate="%{text}", colorscale="Blues", showscale=False,
                               hoverinfo="skip"))
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, "Confusion matrix at the threshold", height=300)


# --- training curves ---------------------------------------------------------------------------
def _epoch_axis(df: pd.DataFrame, columns: list[str]) -> tuple[str, str, pd.DataFrame]:
    """Which x to plot per-epoch records against: the training epoch when every plotted value
    comes from training epochs (collapse numbers), else the record number across pretraining
    and training (losses), with the pretraining records to shade."""
    present = [c for c in columns if c in df]
    rows = df[df[present].notna().any(axis=1)] if present else df.iloc[:0]
    if "phase" not in df or (rows["phase"] != "pretrain").all():
        return "epoch", "training epoch", df.iloc[:0]
    return "step", "epoch (pretraining, then training)", df[df["phase"] == "pretrain"]


def _integer_ticks(fig: go.Figure, values, **where) -> None:
    """Whole-number ticks for a few epochs (plotly would label 1, 1.5, 2)."""
    values = pd.Series(values).dropna()
    if len(values) and values.max() - values.min() <= 12:
        fig.update_xaxes(dtick=1, **where)


def history_figure(df: pd.DataFrame, columns: list[str], names: dict[str, str] | None = None,
                   title: str = "", log_y: bool = False, height: int = 300,
                   y_range: tuple[float, float] | None = None) -> go.Figure:
    """Per-epoch lines, one per column; pretraining epochs (when plotted) are shaded."""
    names = names or {}
    x, x_title, pre = _epoch_axis(df, columns)
    fig = go.Figure()
    for i, col in enumerate(columns):
        if col not in df:
            continue
        d = df[["step", "phase", "epoch", col]].dropna(subset=[col])
        fig.add_trace(go.Scatter(x=d[x], y=d[col], mode="lines+markers", name=names.get(col, col),
                                 line=dict(color=PALETTE[i % len(PALETTE)]), showlegend=len(columns) > 1,
                                 customdata=np.c_[d["phase"], d["epoch"]],
                                 hovertemplate="%{customdata[0]} epoch %{customdata[1]}: %{y:.4g}"))
    if len(pre):
        fig.add_vrect(x0=pre["step"].min() - 0.5, x1=pre["step"].max() + 0.5, fillcolor="grey",
                      opacity=0.12, line_width=0, annotation_text="pretraining",
                      annotation_position="top left")
    fig.update_xaxes(title=x_title)
    _integer_ticks(fig, df[x] if x in df else [])
    if log_y:
        _log_axis(fig, df[[c for c in columns if c in df]].to_numpy().ravel())
    if y_range is not None:
        fig.update_yaxes(range=list(y_range))
    return _layout(fig, title, height=height)


def _log_axis(fig: go.Figure, values, **where) -> None:
    """A log axis labelled at whole powers of ten when the data span a decade or more (with
    unlabelled minor ticks between), so the labels never read "2 5 2 5"."""
    v = np.asarray(pd.Series(np.asarray(values, dtype=np.float64).ravel()).dropna())
    v = v[np.isfinite(v) & (v > 0)]
    fig.update_yaxes(type="log", exponentformat="power", **where)
    if len(v) and np.log10(v.max() / v.min()) >= 1:
        fig.update_yaxes(dtick=1, minor=dict(ticks="outside", ticklen=3, showgrid=False), **where)


def history_grid(df: pd.DataFrame, columns: list[str], names: dict[str, str],
                 log_y: tuple[str, ...] = (), cols: int = 2, row_height: int = 220) -> go.Figure:
    """Small multiples: one panel per metric, each on its own scale."""
    rows = -(-len(columns) // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[names.get(c, c) for c in columns],
                        horizontal_spacing=0.12, vertical_spacing=0.3 / max(rows, 1) + 0.08)
    for i, col in enumerate(columns):
        r, c = i // cols + 1, i % cols + 1
        x, _, pre = _epoch_axis(df, [col])
        d = df[["step", "phase", "epoch", col]].dropna(subset=[col])
        fig.add_trace(go.Scatter(x=d[x], y=d[col], mode="lines+markers", name=names.get(col, col),
                                 line=dict(color=PALETTE[i % len(PALETTE)]), showlegend=False,
                                 customdata=np.c_[d["phase"], d["epoch"]],
                                 hovertemplate="%{customdata[0]} epoch %{customdata[1]}: %{y:.4g}"),
                      row=r, col=c)
        _integer_ticks(fig, d[x], row=r, col=c)
        if col in log_y:
            _log_axis(fig, d[col], row=r, col=c)
        if len(pre):
            fig.add_vrect(x0=pre["step"].min() - 0.5, x1=pre["step"].max() + 0.5, fillcolor="grey",
                          opacity=0.12, line_width=0, row=r, col=c)
    fig.update_annotations(font_size=13)
    fig.update_layout(height=row_height * rows + 40, margin=dict(l=10, r=10, t=40, b=10))
    return _styled(fig)


def collapse_gauges(spread_ratio: float | None, eff_rank: float | None, dim: int | None,
                    const_dims: int | None) -> go.Figure:
    """The spread ratio on a log dial coloured by the verdict's thresholds, then the effective rank
    and the constant dimensions as plain numbers (shown, not judged)."""
    from deepad import diagnostics as D

    fig = make_subplots(rows=1, cols=3, specs=[[{"type": "indicator"}] * 3])
    if spread_ratio is not None:
        lo, hi = -5.0, 1.0
        v = float(np.clip(np.log10(max(spread_ratio, 1e-12)), lo, hi))
        c, r = np.log10(D.COLLAPSED_BELOW), np.log10(D.AT_RISK_BELOW)
        fig.add_trace(go.Indicator(
            mode="gauge", value=v, title=dict(text="spread ratio", font=dict(size=13)),
            gauge=dict(axis=dict(range=[lo, hi], tickvals=[lo, c, r, 0, hi],
                                 ticktext=["1e-5", f"{D.COLLAPSED_BELOW:g}", f"{D.AT_RISK_BELOW:g}", "1", "10"]),
                       bar=dict(color="black", thickness=0.25),
                       steps=[dict(range=[lo, c], color="#f4a5a5"), dict(range=[c, r], color="#fcd9a8"),
                              dict(range=[r, hi], color="#bfe5bf")])), row=1, col=1)
        dom = fig.data[-1].domain  # the ratio itself in the dial's centre (the dial is log10 of it)
        fig.add_annotation(text=f"{spread_ratio:.2g}", showarrow=False, font=dict(size=18),
                           x=(dom.x[0] + dom.x[1]) / 2, y=dom.y[0] + 0.12, xref="paper", yref="paper")
    if eff_rank is not None and dim:
        fig.add_trace(go.Indicator(
            mode="number", value=eff_rank, number=dict(valueformat=".1f", suffix=f" / {dim}"),
            title=dict(text="effective rank", font=dict(size=13))), row=1, col=2)
    if const_dims is not None and dim:
        fig.add_trace(go.Indicator(
            mode="number", value=const_dims, number=dict(suffix=f" / {dim}", valueformat=".0f"),
            title=dict(text="constant dimensions", font=dict(size=13))), row=1, col=3)
    fig.update_layout(height=200, margin=dict(l=45, r=25, t=40, b=5))  # room for the dial's "1e-5"
    return _styled(fig)


def compare_figure(frames: dict[str, pd.DataFrame], column: str, title: str, log_y: bool = False,
                   height: int = 300, y_range: tuple[float, float] | None = None) -> go.Figure:
    """One metric over epochs, one line per run (training epochs only)."""
    fig = go.Figure()
    for i, (label, df) in enumerate(frames.items()):
        if column not in df:
            continue
        d = df[df["phase"] != "pretrain"].dropna(subset=[column]) if "phase" in df else df
        fig.add_trace(go.Scatter(x=d["epoch"], y=d[column], mode="lines+markers", name=label,
                                 line=dict(color=PALETTE[i % len(PALETTE)])))
    fig.update_xaxes(title="training epoch")
    _integer_ticks(fig, pd.concat([f["epoch"] for f in frames.values() if "epoch" in f] or [pd.Series([])]))
    if log_y:
        _log_axis(fig, np.concatenate([np.asarray(f[column], dtype=np.float64) for f in frames.values()
                                       if column in f] or [np.array([])]))
    if y_range is not None:
        fig.update_yaxes(range=list(y_range))
    return _layout(fig, title, height=height)


# --- latent space --------------------------------------------------------------------------------
def latent_scatter(df: pd.DataFrame, color_by: str, centre: np.ndarray | None = None,
                   title: str = "", height: int = 520) -> go.Figure:
    """WebGL scatter of a 2-D view. color_by: "truth", "class", "score" or "distance"."""
    fig = go.Figure()
    hover = ("%{customdata[1]} (%{customdata[2]})<br>score %{customdata[3]:.4g}"
             "<br>dataset row %{customdata[0]}<extra></extra>")
    custom = np.c_[df["dataset_index"], df["class"], df["truth"], df["score"], df["row"]]
    if color_by in ("truth", "class"):
        for name, part in df.groupby(color_by, sort=True):
            colour = TRUTH_COLOURS.get(name) if color_by == "truth" else None
            fig.add_trace(go.Scattergl(
                x=part["x"], y=part["y"], mode="markers", name=str(name),
                marker=dict(size=5, opacity=0.7, color=colour),
                customdata=custom[part.index.to_numpy()], hovertemplate=hover))
    else:
        values = df[color_by]
        fig.add_trace(go.Scattergl(
            x=df["x"], y=df["y"], mode="markers", name=color_by, showlegend=False,
            marker=dict(size=5, opacity=0.8, color=values, colorscale="Viridis", showscale=True,
                        colorbar=dict(title=color_by)),
            customdata=custom, hovertemplate=hover))
    if centre is not None:  # WebGL draws above SVG traces: the centre is WebGL too, after the points
        fig.add_trace(go.Scattergl(x=[centre[0]], y=[centre[1]], mode="markers", name="centre c",
                                   marker=dict(symbol="x", size=16, color="black", line=dict(width=2))))
    fig.update_layout(dragmode="lasso")
    return _layout(fig, title, height=height)


def distance_histogram(dist: np.ndarray, truth: np.ndarray, radius: float | None = None) -> go.Figure:
    fig = go.Figure()
    for name, val in (("normal", 0), ("anomaly", 1)):
        fig.add_trace(go.Histogram(x=dist[truth == val], name=f"{name} ({int(np.sum(truth == val))})",
                                   opacity=0.6, nbinsx=60, bingroup=1, histnorm="percent",
                                   marker_color=TRUTH_COLOURS[name]))
    if radius is not None and radius > 0:
        fig.add_vline(x=radius, line=dict(color="black", dash="dash"), annotation_text="radius R")
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title="distance to the centre ‖φ(x) − c‖")
    fig.update_yaxes(title="% of the group")
    return _layout(fig, "Distance to the centre", height=320)


def decision_plane(grid) -> go.Figure:
    """Scores over the input plane, the decision boundary (score = threshold) and the test data."""
    fig = go.Figure()
    z = np.asarray(grid.z, dtype=np.float64)
    lo, hi = np.percentile(z, 1), np.percentile(z, 99)
    fig.add_trace(go.Contour(x=grid.xs, y=grid.ys, z=np.clip(z, lo, hi), colorscale="Greys", opacity=0.55,
                             contours=dict(showlines=False), ncontours=25, name="score",
                             colorbar=dict(title="score"), hovertemplate="score %{z:.3g}<extra></extra>"))
    fig.add_trace(go.Contour(x=grid.xs, y=grid.ys, z=z, showscale=False, name="decision boundary",
                             contours=dict(type="constraint", operation="<", value=grid.threshold,
                                           showlabels=False),
                             line=dict(color="black", width=3), fillcolor="rgba(44,160,44,0.15)",
                             hoverinfo="skip", showlegend=True))
    for name, val in (("normal", 0), ("anomaly", 1)):
        pts = grid.points[grid.truth == val]
        fig.add_trace(go.Scattergl(x=pts[:, 0], y=pts[:, 1], mode="markers", name=f"test {name}",
                                   marker=dict(size=5, color=TRUTH_COLOURS[name], opacity=0.8)))
    fig.update_xaxes(title="x₁", constrain="domain", range=[grid.xs[0], grid.xs[-1]])
    fig.update_yaxes(title="x₂", scaleanchor="x", scaleratio=1, constrain="domain",
                     range=[grid.ys[0], grid.ys[-1]])
    return _layout(fig, "Input plane: where the model says normal (inside the boundary)", height=520)


def _snapshot_traces(view, i: int) -> list:
    """The probe at snapshot i: anomalies first, normals drawn above them, the centre on top."""
    xy = view.xy[i]
    traces = []
    if view.truth is not None:
        for name, val in (("anomaly", 1), ("normal", 0)):
            pts = xy[view.truth == val]
            traces.append(go.Scatter(x=pts[:, 0], y=pts[:, 1], mode="markers", name=name,
                                     marker=dict(size=6, opacity=0.75, color=TRUTH_COLOURS[name])))
    else:
        traces.append(go.Scatter(x=xy[:, 0], y=xy[:, 1], mode="markers", name="probe samples",
                                 marker=dict(size=6, opacity=0.75, color=NORMAL_COLOUR)))
    if view.centre is not None:
        traces.append(go.Scatter(x=[view.centre[i, 0]], y=[view.centre[i, 1]], mode="markers", name="centre c",
                                 marker=dict(symbol="x", size=16, color="black", line=dict(width=2))))
    return traces


def _snapshot_axes(fig: go.Figure, view) -> None:
    x0, x1, y0, y1 = view.lim
    fig.update_xaxes(range=[x0, x1], title="PC 1 (over all epochs)")
    fig.update_yaxes(range=[y0, y1], title="PC 2")


def snapshot_scatter(view, i: int, height: int = 460) -> go.Figure:
    """The probe samples' embeddings at snapshot i, in the fixed PCA view of all epochs."""
    fig = go.Figure(_snapshot_traces(view, i))
    _snapshot_axes(fig, view)
    return _layout(fig, f"Probe embeddings after training epoch {int(view.epochs[i])}", height=height)


def snapshot_animation(view, start: int | None = None, height: int = 500, frame_ms: int = 250) -> go.Figure:
    """Every snapshot as an animation frame: a play button and a slider to scrub through epochs;
    the axes stay fixed so the cloud visibly shrinks, spreads or falls onto a point."""
    n = len(view.steps)
    start = n - 1 if start is None else start
    fig = go.Figure(_snapshot_traces(view, start))
    fig.frames = [go.Frame(data=_snapshot_traces(view, j), name=str(j),
                           layout=dict(title=dict(text=f"Probe embeddings after training epoch "
                                                       f"{int(view.epochs[j])}")))
                  for j in range(n)]
    play = dict(frame=dict(duration=frame_ms, redraw=True), transition=dict(duration=0), fromcurrent=True,
                mode="immediate")
    fig.update_layout(
        updatemenus=[dict(type="buttons", direction="left", x=0.0, y=-0.12, xanchor="left", yanchor="top",
                          showactive=False, pad=dict(t=0, r=10),
                          buttons=[dict(label="▶ Play", method="animate", args=[None, play]),
                                   dict(label="❚❚ Pause", method="animate",
                                        args=[[None], dict(frame=dict(duration=0, redraw=False),
                                                           mode="immediate")])])],
        sliders=[dict(active=start, x=0.18, y=-0.08, len=0.82, currentvalue=dict(prefix="epoch "),
                      pad=dict(t=0),
                      steps=[dict(label=str(int(view.epochs[j])), method="animate",
                                  args=[[str(j)], dict(frame=dict(duration=0, redraw=True), mode="immediate",
                                                       transition=dict(duration=0))])
                             for j in range(n)])])
    _snapshot_axes(fig, view)
    fig = _layout(fig, f"Probe embeddings after training epoch {int(view.epochs[start])}", height=height)
    fig.update_layout(margin=dict(b=110))
    return fig


def snapshot_distances(view, i: int) -> go.Figure:
    """Distances of the probe samples to c at snapshot i (normals and anomalies apart)."""
    fig = go.Figure()
    d = view.dist[i]
    if view.truth is not None:
        for name, val in (("anomaly", 1), ("normal", 0)):
            part = d[view.truth == val]
            fig.add_trace(go.Histogram(x=part, name=f"{name} ({len(part)})", opacity=0.6, nbinsx=40,
                                       bingroup=1, marker_color=TRUTH_COLOURS[name]))
    else:
        fig.add_trace(go.Histogram(x=d, name="probe samples", nbinsx=40, marker_color=NORMAL_COLOUR))
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title="distance to the centre ‖φ(x) − c‖")
    fig.update_yaxes(title="samples")
    return _layout(fig, f"Distance to c after epoch {int(view.epochs[i])}: median "
                        f"{float(np.median(d)):.3g}", height=260)


def spread_timeline(view, i: int) -> go.Figure:
    """The spread ratio over epochs, with the verdict's collapse and at-risk zones."""
    from deepad import diagnostics as D

    fig = go.Figure(go.Scatter(x=view.epochs, y=view.spread, mode="lines+markers", name="spread ratio"))
    fig.add_trace(go.Scatter(x=[view.epochs[i]], y=[view.spread[i]], mode="markers", name="shown",
                             marker=dict(size=14, color="black", symbol="circle-open", line=dict(width=3))))
    spread = np.asarray(view.spread, dtype=np.float64)
    finite = spread[np.isfinite(spread) & (spread > 0)]
    lo = min(float(finite.min()) / 3, D.COLLAPSED_BELOW / 10) if len(finite) else D.COLLAPSED_BELOW / 10
    hi = max(float(finite.max()) * 3, 1.0) if len(finite) else 10.0
    fig.add_hrect(y0=lo, y1=D.COLLAPSED_BELOW, fillcolor=VERDICT_COLOURS["collapsed"], opacity=0.12,
                  line_width=0)
    fig.add_hrect(y0=D.COLLAPSED_BELOW, y1=D.AT_RISK_BELOW, fillcolor=VERDICT_COLOURS["at risk"],
                  opacity=0.12, line_width=0)
    fig.update_yaxes(type="log", title="spread ratio", exponentformat="power",
                     range=[np.log10(lo), np.log10(hi)])
    _integer_ticks(fig, view.epochs)
    fig.update_xaxes(title="training epoch")
    return _layout(fig, view.spread_title, height=260, showlegend=False)


# --- exploration -----------------------------------------------------------------------------------
def grid_heatmap(df: pd.DataFrame, axes: list[str], metric: str = "val AUC") -> go.Figure:
    """`metric` (a column of the grid frame) over the first one or two axes; trials that differ
    only in other axes (seeds) are averaged. Each cell names the collapse verdict seen most and
    carries the id of a run it holds (for click-through)."""
    a = axes[0]
    b = axes[1] if len(axes) > 1 else None
    xs = sorted(df[a].dropna().unique(), key=_sort_key)
    ys = sorted(df[b].dropna().unique(), key=_sort_key) if b else [""]
    z = np.full((len(ys), len(xs)), np.nan)
    text = [["" for _ in xs] for _ in ys]
    ids = [["" for _ in xs] for _ in ys]
    for (i, y), (j, x) in itertools.product(enumerate(ys), enumerate(xs)):
        cell = df[(df[a] == x) & ((df[b] == y) if b else True)]
        if not len(cell):
            continue
        ids[i][j] = cell["run"].iloc[0]
        values = cell[metric].dropna()
        if len(values):
            z[i, j] = values.mean()
            verdicts = cell["collapse"].dropna()
            n = f" (mean of {len(values)})" if len(values) > 1 else ""
            text[i][j] = f"{values.mean():.3f}{n}<br>{verdicts.mode().iloc[0] if len(verdicts) else ''}"
        else:
            text[i][j] = ", ".join(sorted(set(cell["state"])))
    fig = go.Figure(go.Heatmap(z=z, x=[str(v) for v in xs], y=[str(v) for v in ys], text=text, customdata=ids,
                               texttemplate="%{text}", colorscale="RdYlGn", zmin=0.5, zmax=1.0,
                               colorbar=dict(title=metric), hovertemplate="%{customdata}<extra></extra>"))
    fig.update_xaxes(title=a, type="category")
    fig.update_yaxes(title=b or "", type="category")
    return _layout(fig, f"{metric} (and collapse verdict) per setting", height=140 + 60 * len(ys))


def _sort_key(v):
    return (0, v, "") if isinstance(v, (int, float)) else (1, 0, str(v))


# --- export ------------------------------------------------------------------------------------
def figures_html(figs: list[go.Figure], title: str) -> str:
    """One self-contained HTML page holding the figures (plotly.js embedded once: works offline)."""
    parts = [f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>",
             f"<h2 style='font-family:sans-serif'>{title}</h2>"]
    for i, fig in enumerate(figs):
        parts.append(fig.to_html(full_html=False, include_plotlyjs=(i == 0)))
    parts.append("</body></html>")
    return "\n".join(parts)


# --- your own input ---------------------------------------------------------------------------------
OWN_COLOUR = "#ff7f0e"


def mark_own_input(fig: go.Figure, x: float, y: float, label: str = "your input") -> go.Figure:
    """A large star where your own input lands (latent map or input plane)."""
    fig.add_trace(go.Scatter(x=[x], y=[y], mode="markers+text", name=label, text=[label],
                             textposition="top center", hoverinfo="skip",
                             marker=dict(symbol="star", size=22, color=OWN_COLOUR,
                                         line=dict(color="black", width=1.5))))
    return fig


def own_score_histogram(scores: np.ndarray, truth: np.ndarray, threshold: float, value: float) -> go.Figure:
    """The test scores, the threshold and where your input's score falls among them."""
    fig = score_histogram(scores, truth, threshold, title="Your input among the test samples' scores")
    fig.add_vline(x=value, line=dict(color=OWN_COLOUR, width=4), annotation_text="your input",
                  annotation_position="top left")
    return fig


def clickable_plane(grid, n: int = 60) -> go.Figure:
    """The input plane with an invisible lattice of points over it, so a click anywhere selects
    the lattice point under the pointer (Plotly only reports clicks on points)."""
    fig = decision_plane(grid)
    gx, gy = np.meshgrid(np.linspace(grid.xs[0], grid.xs[-1], n), np.linspace(grid.ys[0], grid.ys[-1], n))
    fig.add_trace(go.Scatter(x=gx.ravel(), y=gy.ravel(), mode="markers", name="click here", showlegend=False,
                             marker=dict(size=9, opacity=0), hovertemplate="(%{x:.2f}, %{y:.2f})<extra>click to "
                             "score this point</extra>"))
    fig.update_layout(clickmode="event+select", dragmode=False)
    return fig


# --- latent maps you can touch (Vega-Lite: its tooltips draw a field named `image`) ------------------
def latent_chart(df: pd.DataFrame, color_by: str, centre: np.ndarray | None = None, title: str = "",
                 selected: np.ndarray | None = None, height: int = 460, extra_tooltip: list[str] | None = None):
    """A 2-D view of φ as an Altair chart: hovering a point shows its image (a data-URL column
    `image`) or feature values, class, score, distance to c and rank; click a point (shift-click for
    more) or drag a box to select (selections `pick` and `box`); `selected` rows are highlighted."""
    import altair as alt

    data = df.copy()
    data["selected"] = data["row"].isin(selected) if selected is not None and len(selected) else True
    pick = alt.selection_point(name="pick", fields=["row"], on="click", toggle="event.shiftKey")
    box = alt.selection_interval(name="box", encodings=["x", "y"])
    if color_by == "truth":
        color = alt.Color("truth:N", scale=alt.Scale(domain=list(TRUTH_COLOURS), range=list(TRUTH_COLOURS.values())),
                          legend=alt.Legend(orient="bottom", title=None))
    elif color_by == "class":
        color = alt.Color("class:N", legend=alt.Legend(orient="bottom", title="class"))
    else:
        color = alt.Color(f"{color_by}:Q", scale=alt.Scale(scheme="viridis"),
                          legend=alt.Legend(orient="right", title=color_by))
    tips = (["image"] if "image" in data else []) + ["class", "truth",
                                                       alt.Tooltip("score:Q", format=".4g"),
                                                       alt.Tooltip("rank:Q", title="rank (1 = most anomalous)")]
    if "distance" in data:
        tips.insert(-1, alt.Tooltip("distance:Q", title="distance to c", format=".4g"))
    tips += list(extra_tooltip or [])
    points = alt.Chart(data).mark_circle(size=38).encode(
        x=alt.X("x:Q", title=None, axis=alt.Axis(labels=False, ticks=False)),
        y=alt.Y("y:Q", title=None, axis=alt.Axis(labels=False, ticks=False)),
        color=color, tooltip=tips,
        opacity=alt.condition("datum.selected", alt.value(0.85), alt.value(0.12)),
    ).add_params(pick, box)
    layers = [points]
    if centre is not None:  # drawn last: on top of the cloud
        c = pd.DataFrame({"x": [float(centre[0])], "y": [float(centre[1])], "what": ["centre c"]})
        layers.append(alt.Chart(c).mark_point(shape="cross", size=420, filled=True, color="black",
                                              stroke="white", strokeWidth=1.5)
                      .encode(x="x:Q", y="y:Q", tooltip=["what:N"]))
    return _styled_chart(alt.layer(*layers).properties(title=title, height=height))


def _styled_chart(chart):
    """Altair charts in presenter mode: larger type, taller."""
    if not presenter():
        return chart
    f = PRESENTER["font"]
    return (chart.properties(height=int(chart.height * PRESENTER["height"]))
            .configure_axis(labelFontSize=f, titleFontSize=f).configure_legend(labelFontSize=f, titleFontSize=f)
            .configure_title(fontSize=PRESENTER["title"]))


def score_hist_chart(df: pd.DataFrame, threshold: float | None = None, selected: np.ndarray | None = None,
                     height: int = 240):
    """The test scores as a histogram (normal vs anomaly); drag over a score range to select those
    samples (selection `range`); the selected ones are drawn darker."""
    import altair as alt

    data = df[["row", "score", "truth"]].copy()
    data["selected"] = data["row"].isin(selected) if selected is not None and len(selected) else True
    brush = alt.selection_interval(name="range", encodings=["x"])
    bars = alt.Chart(data).mark_bar(opacity=0.75).encode(
        x=alt.X("score:Q", bin=alt.Bin(maxbins=50), title="anomaly score (drag to select a range)"),
        y=alt.Y("count():Q", stack=True, title="test samples"),
        color=alt.Color("truth:N", scale=alt.Scale(domain=list(TRUTH_COLOURS), range=list(TRUTH_COLOURS.values())),
                        legend=alt.Legend(orient="bottom", title=None)),
        opacity=alt.Opacity("selected:N", scale=alt.Scale(domain=[False, True], range=[0.25, 0.85]), legend=None),
    ).add_params(brush)
    layers = [bars]
    if threshold is not None:
        layers.append(alt.Chart(pd.DataFrame({"t": [threshold]})).mark_rule(color="black", strokeDash=[6, 4],
                                                                           size=2).encode(x="t:Q"))
    return _styled_chart(alt.layer(*layers).properties(height=height))
