"""The dashboard's pages: one registry that `app.py` builds its navigation from and the tests read.

The page scripts live one level down, in `pages/screens/`, what they share in `pages/ui/`; both are
registered with nothing but `st.navigation` in `app.py`. Streamlit's older multipage routing lists
and routes to the scripts at the top level of `pages/` (`pages/*.py` but `__init__.py`), and there
are none.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageEntry:
    url: str  # the page's address: /train, /roc, ...
    title: str  # in the navigation
    path: str  # the script, relative to the project folder
    icon: str
    section: str  # the navigation's heading above it


_FOLLOW, _LOOK, _TRY = "Train and follow", "Look at the current run", "Try many settings"
PAGES: tuple[PageEntry, ...] = (
    PageEntry("train", "Train", "pages/screens/train.py", ":material/model_training:", _FOLLOW),
    PageEntry("runs", "Runs / live", "pages/screens/runs.py", ":material/monitoring:", _FOLLOW),
    PageEntry("lesson", "Lesson", "pages/screens/lesson.py", ":material/school:", _FOLLOW),
    PageEntry("roc", "ROC & scores", "pages/screens/evaluate.py", ":material/show_chart:", _LOOK),
    PageEntry("latent", "Latent space", "pages/screens/latent.py", ":material/scatter_plot:", _LOOK),
    PageEntry("samples", "Samples", "pages/screens/samples.py", ":material/grid_view:", _LOOK),
    PageEntry("collapse", "Collapse", "pages/screens/collapse.py", ":material/compress:", _LOOK),
    PageEntry("score", "Score your own input", "pages/screens/score.py", ":material/draw:", _LOOK),
    PageEntry("explore", "Explore", "pages/screens/explore.py", ":material/grid_on:", _TRY),
    PageEntry("papers", "Papers", "pages/screens/papers.py", ":material/menu_book:", _TRY),
)
DEFAULT = "train"  # what the root address (/) opens


def page_path(url: str) -> str:
    """The script of the page at /url, as `st.switch_page` and `st.page_link` take it."""
    return next(p.path for p in PAGES if p.url == url)
