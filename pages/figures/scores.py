"""The Score and ROC & scores pages' own figures: a user's input marked on a figure, its score
among the test scores, and the score histogram one selects samples on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from deepad.figures.scores import score_histogram
from deepad.figures.style import OWN_COLOUR, TRUTH_COLOURS, styled_chart


def mark_own_input(fig: go.Figure, x: float, y: float, label: str = "your input") -> go.Figure:
    """A large star where your own input lands (latent map or input plane), drawn above the dots:
    the maps' dots are WebGL, which is drawn above every SVG trace, so the star is WebGL too and
    comes after them."""
    fig.add_trace(go.Scattergl(x=[x], y=[y], mode="markers+text", name=label, text=[label],
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
    return styled_chart(alt.layer(*layers).properties(height=height))
