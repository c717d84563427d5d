"""A run's per-epoch latent snapshots as the pages draw them (Latent space and Lesson share one cache)."""

from __future__ import annotations

import streamlit as st

from deepad.views.collapse import verdict_applies
from pages.ui.current import get_run, results_of
from pages.views import latent as latent_view


@st.cache_data(max_entries=8, show_spinner=False)
def probe_truth(run_id: str, size: int):
    """Normal / anomaly of the probe samples (read from the run's split once per run)."""
    return latent_view.probe_truth(get_run(run_id), size)


@st.cache_data(max_entries=8, show_spinner=False)
def snapshot_view(run_id: str, stamp: int):
    """The run's snapshots with their verdict zones, or None before the first snapshot; `stamp` (the
    snapshot file's) renews the cache when a live run writes another."""
    r = get_run(run_id)
    snaps = r.snapshots() if r is not None else None
    if snaps is None:
        return None
    centre = (results_of(r) or {}).get("center")
    view = latent_view.snapshot_view(snaps, centre, probe_truth(run_id, int(snaps["emb"].shape[1])), r.history())
    if view is not None and not verdict_applies(r):  # no verdict zones for a method it does not apply to
        view.judged = False
    return view
