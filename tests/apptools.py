"""What the dashboard's AppTest modules share: the pages, opening one on a run, reading its text, starting
a short run from Train (the fixtures they use are in conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from pages import DEFAULT, PAGES as REGISTRY, page_path  # noqa: E402


APP = str(Path(__file__).resolve().parent.parent / "app.py")


TITLES = {"pages/screens/train.py": "Train a detector", "pages/screens/runs.py": "Runs",
          "pages/screens/evaluate.py": "ROC curves and scores", "pages/screens/latent.py": "Latent space",
          "pages/screens/samples.py": "Samples", "pages/screens/collapse.py": "Hypersphere collapse",
          "pages/screens/explore.py": "Explore hyperparameters", "pages/screens/score.py": "Score your own input",
          "pages/screens/papers.py": "Papers", "pages/screens/lesson.py": "Lesson"}


PAGES = [p.path for p in REGISTRY]


DEFAULT_PAGE = page_path(DEFAULT)


TINY = {"epochs": 2, "pretrain_epochs": 1}


def open_page(page: str, run_id: str | None = None) -> AppTest:
    """A new session opened on a link to `page` (and `run_id`): app.py draws the page inside its
    navigation and sidebar, as for a reload or a shared link."""
    at = AppTest.from_file(APP, default_timeout=60)
    if run_id:
        at.query_params["run"] = run_id
    at.run()  # the address / opens Train; this first run registers the pages (st.navigation) ...
    if page != DEFAULT_PAGE:
        at.switch_page(page).run()  # ... so that a link opens another (AppTest then stays on it)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == TITLES[page]
    assert at.sidebar.selectbox(key="run_picker") is not None  # drawn by app.py around the page
    return at


def texts(at: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "caption", "info", "warning", "error", "success", "title",
                                  "subheader") for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def charts(at: AppTest) -> int:
    return len(at.get("plotly_chart"))


def manager_of(root: Path):
    from pages.ui.singletons import _manager

    return _manager(str(root))
