"""What the dashboard's server loads ahead of its first page (threads: never at import)."""

from __future__ import annotations


def warm_up_server() -> None:
    """In background threads: compile UMAP (tens of seconds; `embedding.Projector.warm_up`, once
    per process) and load the default dataset (seconds), so that no page waits on them later."""
    import threading

    from deepad.data.datasets import load_dataset
    from deepad.embedding import projector

    projector().warm_up()
    threading.Thread(target=load_dataset, args=("mnist5k",), daemon=True, name="deepad-load-default").start()
