"""What every figure shares: the colours, the presenter style (larger type and lines for a classroom
projector, per thread), the layout and axis helpers, and the export of figures as one HTML page."""

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


def layout(fig: go.Figure, title: str, height: int = 360, **kw) -> go.Figure:
    """Title on top, legend under the plot (long run names never cover the title)."""
    fig.update_layout(title=dict(text=title, font=dict(size=15)), height=height, margin=_MARGIN,
                      legend=dict(orientation="h", yanchor="top", y=-0.28, xanchor="left", x=0),
                      **kw)
    return styled(fig)


def integer_ticks(fig: go.Figure, values, **where) -> None:
    """Whole-number ticks for a few epochs (plotly would label 1, 1.5, 2)."""
    values = pd.Series(values).dropna()
    if len(values) and values.max() - values.min() <= 12:
        fig.update_xaxes(dtick=1, **where)


def log_axis(fig: go.Figure, values, **where) -> None:
    """A log axis labelled at whole powers of ten when the data span a decade or more (with
    unlabelled minor ticks between), so the labels never read "2 5 2 5"."""
    v = np.asarray(pd.Series(np.asarray(values, dtype=np.float64).ravel()).dropna())
    v = v[np.isfinite(v) & (v > 0)]
    fig.update_yaxes(type="log", exponentformat="power", **where)
    if len(v) and np.log10(v.max() / v.min()) >= 1:
        fig.update_yaxes(dtick=1, minor=dict(ticks="outside", ticklen=3, showgrid=False), **where)


def figures_html(figs: list[go.Figure], title: str) -> str:
    """One self-contained HTML page holding the figures (plotly.js embedded once: works offline)."""
    parts = [f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>",
             f"<h2 style='font-family:sans-serif'>{title}</h2>"]
    for i, fig in enumerate(figs):
        parts.append(fig.to_html(full_html=False, include_plotlyjs=(i == 0)))
    parts.append("</body></html>")
    return "\n".join(parts)


OWN_COLOUR = "#ff7f0e"


def styled_chart(chart):
    """Altair charts in presenter mode: larger type, taller."""
    if not presenter():
        return chart
    f = PRESENTER["font"]
    return (chart.properties(height=int(chart.height * PRESENTER["height"]))
            .configure_axis(labelFontSize=f, titleFontSize=f).configure_legend(labelFontSize=f, titleFontSize=f)
            .configure_title(fontSize=PRESENTER["title"]))
