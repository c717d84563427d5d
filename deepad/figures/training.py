"""Training curves: the history of an epoch record's numbers (with the pieces the pages' per-phase
grids reuse: the epoch axis, the line mode, the checkpoint mark) and the collapse gauges."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from deepad.figures.style import PALETTE, at_floor, integer_ticks, layout, log_axis, mark_floor, styled, zero_floor

MARKERS_UP_TO = 80  # a curve of more points is drawn as a line only: each marker is an element to draw


def line_mode(points: int) -> str:
    return "lines+markers" if points <= MARKERS_UP_TO else "lines"


def epoch_axis(df: pd.DataFrame, columns: list[str]) -> tuple[str, str, pd.DataFrame]:
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


def mark_checkpoint(fig: go.Figure, df: pd.DataFrame, x: str, epoch: int | None, label: str,
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
    x, x_title, pre = epoch_axis(df, columns)
    fig = go.Figure()
    floor = zero_floor(df[[c for c in columns if c in df]].to_numpy().ravel()) if log_y else None
    for i, col in enumerate(columns):
        if col not in df:
            continue
        d = df[["step", "phase", "epoch", col]].dropna(subset=[col])
        fig.add_trace(go.Scatter(x=d[x], y=at_floor(d[col], floor), mode=line_mode(len(d)),
                                 name=names.get(col, col),
                                 line=dict(color=PALETTE[i % len(PALETTE)]), showlegend=len(columns) > 1,
                                 customdata=np.c_[d["phase"], d["epoch"], d[col]],
                                 hovertemplate="%{customdata[0]} epoch %{customdata[1]}: %{customdata[2]:.4g}"))
    if len(pre):
        fig.add_vrect(x0=pre["step"].min() - 0.5, x1=pre["step"].max() + 0.5, fillcolor="grey",
                      opacity=0.12, line_width=0, annotation_text="pretraining",
                      annotation_position="top left")
    mark_checkpoint(fig, df, x, checkpoint_epoch, checkpoint_label(checkpoint))
    fig.update_xaxes(title=x_title)
    integer_ticks(fig, df[x] if x in df else [])
    if log_y:
        log_axis(fig, at_floor(df[[c for c in columns if c in df]].to_numpy().ravel(), floor), height=height)
        mark_floor(fig, floor)
    if y_range is not None:
        fig.update_yaxes(range=list(y_range))
    return layout(fig, title, height=height)


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
