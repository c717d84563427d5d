"""The objects a server process holds once for all its sessions: the runs folder, the run manager
that supervises the worker processes, the UMAP projector and the warm-up."""

from __future__ import annotations

import streamlit as st

from deepad import embedding
from deepad.errors import DeepADError
from deepad.runs.listing import RunStore
from deepad.runs.read import RunRecord
from deepad.training.manager import RunManager
from deepad.warmup import warm_up_server


@st.cache_resource(show_spinner=False)
def _manager(runs_dir: str) -> RunManager:
    """One manager per runs folder and server process; its threads never call Streamlit."""
    return RunManager(RunStore(runs_dir))


def store() -> RunStore:
    return RunStore()


def all_runs() -> list[RunRecord]:
    """Every run in the runs folder, newest first; [] when the folder cannot be read (app.py says
    why in the sidebar)."""
    try:
        return store().list()
    except DeepADError:
        return []


def manager() -> RunManager:
    return _manager(str(store().root))


@st.cache_resource(show_spinner=False)
def projector() -> embedding.Projector:
    """The process-wide UMAP projector."""
    return embedding.projector()


@st.cache_resource(show_spinner=False)
def warm_up() -> None:
    """Once per server process: `deepad.warmup.warm_up_server` (already under way when the server
    was started with `python serve.py`, as `make run` does)."""
    warm_up_server()

