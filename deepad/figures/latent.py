"""The latent space: the scatter plot of the test samples' embeddings (PCA), coloured by truth,
class or score, with the centre."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from deepad.figures.style import TRUTH_COLOURS, layout


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
    return layout(fig, title, height=height)
