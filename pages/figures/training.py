"""The Runs, Lesson and Explore pages' own figures: a run's curves one panel per phase, two runs
compared on one number, and the sweep heatmap."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from deepad.figures.style import PALETTE, at_floor, integer_ticks, layout, log_axis, mark_floor, styled, zero_floor
from deepad.figures.training import epoch_axis, line_mode, mark_checkpoint


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
        x, _, pre = epoch_axis(df, [col])
        d = df[["step", "phase", "epoch", col]].dropna(subset=[col])
        floor = zero_floor(d[col]) if col in log_y else None
        fig.add_trace(go.Scatter(x=d[x], y=at_floor(d[col], floor), mode=line_mode(len(d)), name=names.get(col, col),
                                 line=dict(color=PALETTE[i % len(PALETTE)]), showlegend=False,
                                 customdata=np.c_[d["phase"], d["epoch"], d[col]],
                                 hovertemplate="%{customdata[0]} epoch %{customdata[1]}: %{customdata[2]:.4g}"),
                      row=r, col=c)
        integer_ticks(fig, d[x], row=r, col=c)
        if col in log_y:
            log_axis(fig, at_floor(d[col], floor), height=row_height, row=r, col=c)
            mark_floor(fig, floor, row=r, col=c)
        if len(pre):
            fig.add_vrect(x0=pre["step"].min() - 0.5, x1=pre["step"].max() + 0.5, fillcolor="grey",
                          opacity=0.12, line_width=0, row=r, col=c)
        mark_checkpoint(fig, df, x, checkpoint_epoch, "", row=r, col=c)
    fig.update_annotations(font_size=13)
    fig.update_layout(height=row_height * rows + 40, margin=dict(l=10, r=10, t=40, b=10))
    return styled(fig)


def compare_figure(frames: dict[str, pd.DataFrame], column: str, title: str, log_y: bool = False,
                   height: int = 300, y_range: tuple[float, float] | None = None) -> go.Figure:
    """One metric over epochs, one line per run (training epochs only)."""
    fig = go.Figure()
    floor = zero_floor(np.concatenate([np.asarray(f[column], dtype=np.float64) for f in frames.values()
                                       if column in f] or [np.array([])])) if log_y else None
    for i, (label, df) in enumerate(frames.items()):
        if column not in df:
            continue
        d = df[df["phase"] != "pretrain"].dropna(subset=[column]) if "phase" in df else df
        fig.add_trace(go.Scatter(x=d["epoch"], y=at_floor(d[column], floor), mode=line_mode(len(d)), name=label,
                                 line=dict(color=PALETTE[i % len(PALETTE)]), customdata=d[column],
                                 hovertemplate=f"{label}, epoch %{{x}}: %{{customdata:.4g}}<extra></extra>"))
    fig.update_xaxes(title="training epoch")
    integer_ticks(fig, pd.concat([f["epoch"] for f in frames.values() if "epoch" in f] or [pd.Series([])]))
    if log_y:
        log_axis(fig, at_floor(np.concatenate([np.asarray(f[column], dtype=np.float64) for f in frames.values()
                                                if column in f] or [np.array([])]), floor), height=height)
        mark_floor(fig, floor)
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
