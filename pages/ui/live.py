"""Views that follow a run while it trains: its records read incrementally, how often to look
again, and the fragment that redraws itself while the run trains and the whole page once when it
ends."""

from __future__ import annotations

import functools
from typing import Callable

import streamlit as st

from deepad.runs.follow import HistoryReader, curves_refresh_seconds, refresh_seconds
from deepad.runs.read import RunRecord
from pages.ui.current import get_run
from pages.views.common import is_live

LIVE_REFRESH_S = 2.0  # how often a view of several runs, a sweep or UMAP looks again (one run: `refresh_every`)


def history_of(run: RunRecord) -> list[dict]:
    """The run's epoch records, read incrementally: this session keeps one reader per run, which
    parses only the lines appended since its last look (see `deepad.runs.follow.HistoryReader`)."""
    readers = st.session_state.setdefault("_history_readers", {})
    key = str(run.path)
    if key not in readers:
        if len(readers) >= 16:  # forget the runs looked at longest ago
            readers.pop(next(iter(readers)))
        readers[key] = HistoryReader(run.path)
    return readers[key].read()


def refresh_every(run: RunRecord, charts: bool = False) -> float | None:
    """How often a live view of the run looks again (None once it has ended): quicker while epoch
    records arrive every second or so, slower for long epochs (`deepad.runs.follow.refresh_seconds`);
    its `charts` less often (`deepad.runs.follow.curves_refresh_seconds`)."""
    if not is_live(run):
        return None
    return (curves_refresh_seconds if charts else refresh_seconds)(history_of(run), run.state)


def run_refresh(run_id: str, charts: bool = False) -> float | None:
    """`refresh_every` of the run with this id (None when it is gone or has ended)."""
    run = get_run(run_id)
    return refresh_every(run, charts) if run is not None else None


def curves_refresh(run_id: str) -> float | None:
    """How often the charts of a live view of this run are drawn again (see `refresh_every`)."""
    return run_refresh(run_id, charts=True)


def live_fragment(body: Callable[[str], None], subject: str,
                  every: Callable[[str], float | None] = run_refresh) -> None:
    """Draw `body(subject)` in a fragment that redraws itself every `every(subject)` seconds while
    that is not None (by default: while the run with id `subject` trains), and reruns the whole page
    once when it becomes None, so the parts outside the fragment show what the run ended with."""

    @functools.wraps(body)  # the fragment's identity is the body's
    def drawn(subject: str) -> None:
        # a fragment's rerun runs only this function (not app.py), in a thread of its own: the figures'
        # presenter style is set again here, or a redrawn chart would come back at the normal size
        from deepad.figures.style import set_presenter
        from pages.ui.look import PRESENTER_KEY

        set_presenter(bool(st.session_state.get(PRESENTER_KEY)))
        seen = st.session_state.setdefault("_live_seen", {})
        key = (body.__qualname__, subject)
        wait = every(subject)
        was, seen[key] = seen.get(key), wait is not None
        if was and wait is None:  # it just ended: redraw everything once (every view of it with it)
            seen.update({k: False for k in seen if k[1] == subject})
            st.rerun()
        body(subject)

    st.fragment(drawn, run_every=every(subject))(subject)
