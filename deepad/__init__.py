"""deepad: deep one-class and semi-supervised anomaly detectors, runs on disk, diagnostics.

The library knows nothing of the dashboard: `app.py` and `pages/` are a view over it, and the CLI
(`deepad`, `python -m deepad`) drives the very same calls. In a notebook or a script:
`deepad.train(**options) -> Run`, `deepad.load(run_id_or_path)`, `deepad.list_runs()`, `deepad.sweep(grid)`
(see `deepad.api`).
"""

__version__ = "0.1.0"

from deepad.errors import DeepADError  # noqa: E402,F401

# The Python API (deepad/api.py), loaded on first use so that `import deepad` stays cheap
_API = ("train", "load", "list_runs", "sweep", "Run")


def __getattr__(name: str):
    if name in _API:
        from deepad import api

        return getattr(api, name)
    raise AttributeError(f"module 'deepad' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])


__all__ = ["DeepADError", "Run", "__version__", "list_runs", "load", "sweep", "train"]
