"""Training curves: the history of an epoch record's numbers, the collapse gauges, runs compared,
and the heat map of a settings grid."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from deepad.figures.style import PALETTE, integer_ticks, layout, log_axis, styled


MARKERS_UP_TO = 80  # a curve of more points is drawn as a line only: each marker is an element to draw


def _mode(points: int) -> str:
    return "lines+markers" if points <= MARKERS_UP_TO else "lines"


def _epoch_axis(df: pd.DataFrame, columns: list[str]) -> tuple[str, str, pd.DataFrame]:
    """Which x to plot per-epoch records against: the training epoch when every plotted value
    comes from training epochs (collapse numbers), else the record number across pretraining
    and training (losses), with the pretraining records to shade."""
    present = [c for c in columns if c in df]
    rows = df[df[present].notna().any(axis=1)] if present else df.iloc[:0]
    if "phase" not in df or (rows["phase"] != "pretrain").all():
        return "epoch", "training epoch", df.iloc[:0]
    return "step", "epoch (pretraining, then training)", df[df["phase"] == "pretrain"]


def checkpoint_label(checkpoint: str | None) -> str:
    return "checkpoint: best validation AUC" if checkpoint == "best-val" else "checkpoint: last epoch"


def _mark_checkpoint(fig: go.Figure, df: pd.DataFrame, x: str, epoch: int | None, label: str,
                     row: int | None = None, col: int | None = None) -> None:
    """A dotted vertical line at the training epoch whose weights score (`checkpoint_epoch`)."""
    if epoch is None or "phase" not in df or "epoch" not in df or x not in df:
        return
    at = df[(df["phase"] == "train") & (df["epoch"] == epoch)]
    if len(at):
        kw = {} if row is None else {"row": row, "col": col}
        fig.add_vline(x=float(at[x].iloc[0]), line_dash="dot", line_color="#444", line_width=1.5,
                      annotation_text=label if row is None else "", annotation_position="top right", **kw)


def history_figure(df: pd.DataFrame, columns: list[str], names: dict[str, str] | None = None,
                   title: str = "", log_y: bool = False, height: int = 300,
                   y_range: tuple[float, float] | None = None, checkpoint_epoch: int | None = None,
                   checkpoint: str | None = None) -> go.Figure:
    """Per-epoch lines, one per column; pretraining epochs (when plotted) are shaded; the training
    epoch whose weights score (`checkpoint_epoch`, of checkpoint `checkpoint`) is marked."""
    names = names or {}
    x, x_title, pre = _epoch_axis(df, columns)
    fig = go.Figure()
    for i, col in enumerate(columns):
        if col not in df:
            continue
        d = df[["step", "phase", "epoch", col]].dropna(subset=[col])
        fig.add_trace(go.Scatter(x=d[x], y=d[col], mode=_mode(len(d)), name=names.get(col, col),
                                 line=dict(color=PALETTE[i % len(PALETTE)]), showlegend=len(columns) > 1,
                                 customdata=np.c_[d["phase"], d["epoch"]],
                                 hovertemplate="%{customdata[0]} epoch %{customdata[1]}: %{y:.4g}"))
    if len(pre):
        fig.add_vrect(x0=pre["step"].min() - 0.5, x1=pre["step"].max() + 0.5, fillcolor="grey",
                      opacity=0.12, line_width=0, annotation_text="pretraining",
                      annotation_position="top left")
    _mark_checkpoint(fig, df, x, checkpoint_epoch, checkpoint_label(checkpoint))
    fig.update_xaxes(title=x_title)
    integer_ticks(fig, df[x] if x in df else [])
    if log_y:
        log_axis(fig, df[[c for c in columns if c in df]].to_numpy().ravel(), height=height)
    if y_range is not None:
        fig.update_yaxes(range=list(y_range))
    return layout(fig, title, height=height)


def history_grid(df: pd.DataFrame, columns: list[str], names: dict[str, str],
                 log_y: tuple[str, ...] = (), cols: int = 2, row_height: int = 220,
                 checkpoint_epoch: int | None = None) -> go.Figure:
    """Small multiples: one panel per metric, each on its own scale; the training epoch whose
    weights score (`checkpoint_epoch`) is marked in each."""
    rows = -(-len(columns) // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[names.get(c, c) for c in columns],
                        horizontal_spacing=0.12, vertical_spacing=0.3 / max(rows, 1) + 0.08)
    for i, col in enumerate(columns):
        r, c = i // cols + 1, i % cols + 1
        x, _, pre = _epoch_axis(df, [col])
        d = df[["step", "phase", "epoch", col]].dropna(subset=[col])
        fig.add_trace(go.Scatter(x=d[x], y=d[col], mode=_mode(len(d)), name=names.get(col, col),
                                 line=dict(color=PALETTE[i % len(PALETTE)]), showlegend=False,
                                 customdata=np.c_[d["phase"], d["epoch"]],
                                 hovertemplate="%{customdata[0]} epoch %{customdata[1]}: %{y:.4g}"),
                      row=r, col=c)
        integer_ticks(fig, d[x], row=r, col=c)
        if col in log_y:
            log_axis(fig, d[col], height=row_height, row=r, col=c)
        if len(pre):
            fig.add_vrect(x0=pre["step"].min() - 0.5, x1=pre["step"].max() + 0.5, fillcolor="grey",
                          opacity=0.12, line_width=0, row=r, col=c)
        _mark_checkpoint(fig, df, x, checkpoint_epoch, "", row=r, col=c)
    fig.update_annotations(font_size=13)
    fig.update_layout(height=row_height * rows + 40, margin=dict(l=10, r=10, t=40, b=10))
    return styled(fig)


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
    return styled(fig)


def compare_figure(frames: dict[str, pd.DataFrame], column: str, title: str, log_y: bool = False,
                   height: int = 300, y_range: tuple[float, float] | None = None) -> go.Figure:
    """One metric over epochs, one line per run (training epochs only)."""
    fig = go.Figure()
    for i, (label, df) in enumerate(frames.items()):
        if column not in df:
            continue
        d = df[df["phase"] != "pretrain"].dropna(subset=[column]) if "phase" in df else df
        fig.add_trace(go.Scatter(x=d["epoch"], y=d[column], mode=_mode(len(d)), name=label,
                                 line=dict(color=PALETTE[i % len(PALETTE)])))
    fig.update_xaxes(title="training epoch")
    integer_ticks(fig, pd.concat([f["epoch"] for f in frames.values() if "epoch" in f] or [pd.Series([])]))
    if log_y:
        log_axis(fig, np.concatenate([np.asarray(f[column], dtype=np.float64) for f in frames.values()
                                       if column in f] or [np.array([])]), height=height)
    if y_range is not None:
        fig.update_yaxes(range=list(y_range))
    return layout(fig, title, height=height)


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
    return layout(fig, f"{metric} (and collapse verdict) per setting", height=140 + 60 * len(ys))


def _sort_key(v):
    return (0, v, "") if isinstance(v, (int, float)) else (1, 0, str(v))
