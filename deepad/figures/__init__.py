"""Plotly figures (and Vega-Lite charts) for the dashboard and for exported HTML reports.

Each function takes plain numbers (see `deepad.views`) and returns a `go.Figure` (or an Altair
chart); none computes anything beyond laying the numbers out. Large point clouds use WebGL
(`go.Scattergl`). One module per subject: `style` (colours, presenter mode, export), `scores`,
`training` and `latent`.
"""

from deepad.figures.latent import (clickable_plane, decision_plane, distance_histogram, latent_chart,
                                   latent_scatter, snapshot_animation, snapshot_distances, snapshot_scatter,
                                   spread_timeline)
from deepad.figures.scores import (confusion_figure, mark_own_input, own_score_histogram, pr_figure, roc_figure,
                                   score_hist_chart, score_histogram)
from deepad.figures.style import PRESENTER, figures_html, presenter, set_presenter
from deepad.figures.training import collapse_gauges, compare_figure, grid_heatmap, history_figure, history_grid

__all__ = ["PRESENTER", "clickable_plane", "collapse_gauges", "compare_figure", "confusion_figure",
           "decision_plane", "distance_histogram", "figures_html", "grid_heatmap", "history_figure",
           "history_grid", "latent_chart", "latent_scatter", "mark_own_input", "own_score_histogram",
           "pr_figure", "presenter", "roc_figure", "score_hist_chart", "score_histogram", "set_presenter",
           "snapshot_animation", "snapshot_distances", "snapshot_scatter", "spread_timeline"]
