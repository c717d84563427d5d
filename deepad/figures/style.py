"""What every figure shares: the colours, the presenter style (larger type and lines for a classroom
projector, per thread), and the layout and axis helpers."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import plotly.graph_objects as go

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


def styled(fig: go.Figure) -> go.Figure:
    if presenter():
        fig.update_layout(font=dict(size=PRESENTER["font"]), title_font_size=PRESENTER["title"],
                          height=int((fig.layout.height or 360) * PRESENTER["height"]))
        fig.update_traces(line_width=PRESENTER["line"], selector=lambda t: t.type == "scatter"
                          and "lines" in (t.mode or "lines"))
        fig.update_annotations(font_size=PRESENTER["font"])
    return fig


TITLE_CHARS = 48  # a title longer than this is broken into lines (a half-width chart at 1280 px holds ~50)


def wrap_title(text: str, width: int = TITLE_CHARS) -> str:
    """A figure title broken at spaces into lines of at most `width` characters (a single longer
    word stays whole), joined by <br>: Plotly never wraps a title, it cuts it at the figure's edge."""
    lines: list[str] = []
    for word in str(text).split(" "):
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def layout(fig: go.Figure, title: str, height: int = 360, title_width: int = TITLE_CHARS, **kw) -> go.Figure:
    """Title on top (broken into lines that fit, the top margin grown to hold them), legend under
    the plot (long run names never cover the title)."""
    text = wrap_title(title, title_width) if title else title
    lines = text.count("<br>") + 1 if text else 0
    margin = {**_MARGIN, "t": _MARGIN["t"] + 20 * max(0, lines - 1)}
    fig.update_layout(title=dict(text=text, font=dict(size=15)), height=height + margin["t"] - _MARGIN["t"],
                      margin=margin, legend=dict(orientation="h", yanchor="top", y=-0.28, xanchor="left", x=0),
                      **kw)
    return styled(fig)


def integer_ticks(fig: go.Figure, values, **where) -> None:
    """Whole-number ticks for a few epochs (plotly would label 1, 1.5, 2)."""
    values = pd.Series(values).dropna()
    if len(values) and values.max() - values.min() <= 12:
        fig.update_xaxes(dtick=1, **where)


def log_ticks(lo: float, hi: float, most: int = 6) -> list[float] | None:
    """Labelled ticks for a log axis over [lo, hi] (both > 0): None when the span is a decade or
    more and at most `most` powers of ten fall in it (Plotly labels those itself, one per decade);
    every k-th power of ten when more would fall in it (they would stack into an unreadable
    column on a short panel); for less than a decade, 1-2-5 steps, else 1..9 steps, else a few
    round numbers, so the axis never reads a single "1"."""
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo <= 0 or hi <= 0:
        return None
    lo, hi = min(lo, hi), max(lo, hi)
    first, last = int(np.ceil(np.log10(lo) - 1e-9)), int(np.floor(np.log10(hi) + 1e-9))
    if np.log10(hi / lo) >= 1:
        powers = list(range(first, last + 1))
        if len(powers) <= most:
            return None
        step = int(np.ceil(len(powers) / most))
        return [float(f"1e{p}") for p in powers[::-1][::step][::-1]]  # the top power always labelled
    decades = range(int(np.floor(np.log10(lo))) - 1, int(np.ceil(np.log10(hi))) + 1)
    for mantissas in ((1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9)):
        ticks = [float(f"{m}e{d}") for d in decades for m in mantissas]  # 0.3, not 0.30000000000000004
        inside = sorted(t for t in ticks if lo * (1 - 1e-9) <= t <= hi * (1 + 1e-9))
        if len(inside) >= 3:
            return inside
    # a narrow span (under a factor of ~1.25): round numbers spread evenly, to two significant digits
    # more than the span needs
    digits = max(0, -int(np.floor(np.log10(hi - lo))) + 1) if hi > lo else 3
    out = sorted({round(float(v), digits) for v in np.linspace(lo, hi, 4)})
    return out if len(out) >= 2 else [lo]


def tick_label(v: float) -> str:
    """A tick value written short: 0.002, 0.25, 3, 1.5e+04."""
    return f"{v:.3g}" if 1e-3 <= abs(v) < 1e4 else f"{v:.2g}"


def zero_floor(values) -> float | None:
    """Where a log axis draws an exact 0 (a cloud fallen onto one point has spread ratio 0, which a
    log axis cannot show): a power of ten at least ten times below the smallest positive value, or
    None when no value is 0."""
    v = np.asarray(pd.Series(np.asarray(values, dtype=np.float64).ravel()).dropna())
    if not np.any(v == 0):
        return None
    pos = v[np.isfinite(v) & (v > 0)]
    return float(10.0 ** (np.floor(np.log10(pos.min())) - 1)) if len(pos) else 1e-9


def at_floor(values, floor: float | None):
    """`values` with every exact 0 replaced by `floor` (see `zero_floor`), for a log axis."""
    if floor is None:
        return values
    return np.where(np.asarray(values, dtype=np.float64) == 0, floor, np.asarray(values, dtype=np.float64))


def mark_floor(fig: go.Figure, floor: float | None, **where) -> None:
    """Say on the figure that the lowest line is 0, drawn at `floor` on the log axis."""
    if floor is None:
        return
    fig.add_hline(y=floor, line_dash="dot", line_color="#d62728", line_width=1, **where)
    # an annotation's y on a log axis is the value's log10 (a shape's is the value itself)
    fig.add_annotation(x=1, xref="x domain", y=float(np.log10(floor)), yref="y", text="exactly 0",
                       hovertext=f"drawn at {floor:.0e}: a log axis has no 0", showarrow=False,
                       xanchor="right", yanchor="bottom", font=dict(color="#d62728"), **where)


def log_axis(fig: go.Figure, values, height: int | None = None, **where) -> None:
    """A log y axis with readable labels (see `log_ticks`): at whole powers of ten when the data
    span a decade or more (with unlabelled minor ticks between, and only every k-th power on a
    short panel of `height` pixels, so the labels never stack), else at round values inside the span,
    never a lone "1"."""
    v = np.asarray(pd.Series(np.asarray(values, dtype=np.float64).ravel()).dropna())
    v = v[np.isfinite(v) & (v > 0)]
    fig.update_yaxes(type="log", exponentformat="power", **where)
    if not len(v):
        return
    most = max(2, int(height // (45 * (PRESENTER["font"] / 12 if presenter() else 1)))) if height else 6
    ticks = log_ticks(float(v.min()), float(v.max()), most)
    if np.log10(v.max() / v.min()) >= 1:
        if ticks is None:
            fig.update_yaxes(dtick=1, minor=dict(ticks="outside", ticklen=3, showgrid=False), **where)
        else:
            fig.update_yaxes(tickmode="array", tickvals=ticks, minor=dict(ticks="outside", ticklen=3,
                                                                          showgrid=False, dtick=1), **where)
    elif ticks:
        fig.update_yaxes(tickmode="array", tickvals=ticks, ticktext=[tick_label(t) for t in ticks], **where)


OWN_COLOUR = "#ff7f0e"


def styled_chart(chart):
    """Altair charts in presenter mode: larger type, taller."""
    if not presenter():
        return chart
    f = PRESENTER["font"]
    return (chart.properties(height=int(chart.height * PRESENTER["height"]))
            .configure_axis(labelFontSize=f, titleFontSize=f).configure_legend(labelFontSize=f, titleFontSize=f)
            .configure_title(fontSize=PRESENTER["title"]))
