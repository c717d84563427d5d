"""The Latent space, Lesson and Score pages' figures: snapshots of the representation over
training (scatter, animation, distances, spread), the decision plane of a 2-D input and the latent
chart one selects points on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from deepad.figures.style import (NORMAL_COLOUR, TRUTH_COLOURS, VERDICT_COLOURS, at_floor, integer_ticks, layout,
                                  log_axis, mark_floor, styled_chart, zero_floor)


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
    return layout(fig, "Distance to the centre", height=320)


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
    return layout(fig, "Input plane: where the model says normal (inside the boundary)", height=520)


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
    return layout(fig, f"Probe embeddings after training epoch {int(view.epochs[i])}", height=height)


ANIMATION_ROWS = {"axis": 62, "slider": 78, "buttons": 40}  # pixels under the plot, top to bottom


def animation_controls_y(plot_height: float, scale: float = 1.0) -> tuple[float, float]:
    """Where the epoch slider and Play / Pause go (paper y of their tops, under the plot) for a
    plot area of `plot_height` pixels: first the tick labels and the axis title (`ANIMATION_ROWS`,
    times `scale` for larger type), then the slider with its "epoch N" label, then the buttons in a
    row of their own, so none covers another at any width."""
    axis, slider = ANIMATION_ROWS["axis"] * scale, ANIMATION_ROWS["slider"] * scale
    return -axis / plot_height, -(axis + slider) / plot_height


def snapshot_animation(view, start: int | None = None, height: int = 500, frame_ms: int = 250) -> go.Figure:
    """Every snapshot as an animation frame: a play button and a slider to scrub through epochs;
    the axes stay fixed so the cloud visibly shrinks, spreads or falls onto a point. The controls sit
    in a row of their own under the axis title."""
    from deepad.figures.style import PRESENTER, presenter

    n = len(view.steps)
    start = n - 1 if start is None else start
    fig = go.Figure(_snapshot_traces(view, start))
    fig.frames = [go.Frame(data=_snapshot_traces(view, j), name=str(j),
                           layout=dict(title=dict(text=f"Probe embeddings after training epoch "
                                                       f"{int(view.epochs[j])}")))
                  for j in range(n)]
    play = dict(frame=dict(duration=frame_ms, redraw=True), transition=dict(duration=0), fromcurrent=True,
                mode="immediate")
    scale = PRESENTER["font"] / 12 if presenter() else 1.0
    bottom = int(sum(ANIMATION_ROWS.values()) * scale) + 10
    fig = layout(fig, f"Probe embeddings after training epoch {int(view.epochs[start])}", height=height,
                 showlegend=True)
    fig.update_layout(margin=dict(b=bottom), height=fig.layout.height + bottom - 10,  # the plot keeps its size
                      legend=dict(orientation="v", y=1, x=1.02, yanchor="top", xanchor="left"))
    plot_height = fig.layout.height - fig.layout.margin.t - bottom
    slider_y, buttons_y = animation_controls_y(plot_height, scale)
    fig.update_layout(
        updatemenus=[dict(type="buttons", direction="left", x=0.0, y=buttons_y, xanchor="left", yanchor="top",
                          showactive=False, pad=dict(t=0, r=10),
                          buttons=[dict(label="▶ Play", method="animate", args=[None, play]),
                                   dict(label="❚❚ Pause", method="animate",
                                        args=[[None], dict(frame=dict(duration=0, redraw=False),
                                                           mode="immediate")])])],
        sliders=[dict(active=start, x=0.0, y=slider_y, len=1.0, xanchor="left", yanchor="top",
                      currentvalue=dict(prefix="epoch ", xanchor="left", offset=6), pad=dict(t=0, b=0),
                      steps=[dict(label=str(int(view.epochs[j])), method="animate",
                                  args=[[str(j)], dict(frame=dict(duration=0, redraw=True), mode="immediate",
                                                       transition=dict(duration=0))])
                             for j in range(n)])])
    _snapshot_axes(fig, view)
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
    return layout(fig, f"Distance to c after epoch {int(view.epochs[i])}: median "
                        f"{float(np.median(d)):.3g}", height=260)


def spread_timeline(view, i: int) -> go.Figure:
    """The spread ratio over epochs; for the collapse verdict's own measure (a hypersphere method)
    with its collapsed and at-risk zones, for any other method the plain relative spread."""
    from deepad import diagnostics as D

    zero = zero_floor(view.spread)  # a cloud fallen onto one point: spread exactly 0, drawn at a floor
    spread = at_floor(np.asarray(view.spread, dtype=np.float64), zero)
    fig = go.Figure(go.Scatter(x=view.epochs, y=spread, mode="lines+markers", name="spread ratio",
                               customdata=view.spread, hovertemplate="epoch %{x}: %{customdata:.4g}<extra></extra>"))
    fig.add_trace(go.Scatter(x=[view.epochs[i]], y=[spread[i]], mode="markers", name="shown",
                             marker=dict(size=14, color="black", symbol="circle-open", line=dict(width=3))))
    finite = spread[np.isfinite(spread) & (spread > 0)]
    floor = D.COLLAPSED_BELOW / 10 if view.judged else (float(finite.min()) / 3 if len(finite) else 0.1)
    lo = min(float(finite.min()) / 3, floor) if len(finite) else floor
    hi = max(float(finite.max()) * 3, 1.0) if len(finite) else 10.0
    if view.judged:
        fig.add_hrect(y0=lo, y1=D.COLLAPSED_BELOW, fillcolor=VERDICT_COLOURS["collapsed"], opacity=0.12,
                      line_width=0)
        fig.add_hrect(y0=D.COLLAPSED_BELOW, y1=D.AT_RISK_BELOW, fillcolor=VERDICT_COLOURS["at risk"],
                      opacity=0.12, line_width=0)
    fig.update_yaxes(title="spread ratio" if view.judged else "spread / first epoch's")
    log_axis(fig, [lo, hi], height=260)
    fig.update_yaxes(range=[np.log10(lo), np.log10(hi)])
    mark_floor(fig, zero)
    integer_ticks(fig, view.epochs)
    fig.update_xaxes(title="training epoch")
    return layout(fig, view.spread_title, height=260, showlegend=False)


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
    for i, name in enumerate(extra_tooltip or []):
        # a user's column name never goes into an encoding, where Vega-Lite would read ':' as a
        # type, '.' and '[' as a path into the record: the values go under a plain name of our
        # own, the name is shown as the tooltip's title (text)
        data[f"_extra{i}"] = data[name]
        tips.append(alt.Tooltip(f"_extra{i}", type="quantitative", title=str(name)))
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
    return styled_chart(alt.layer(*layers).properties(title=title, height=height))
