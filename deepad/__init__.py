"""deepad: deep one-class and semi-supervised anomaly detectors, runs on disk, diagnostics.

The library knows nothing of the dashboard: `app.py` and `pages/` are a view over it, and the CLI
(`python -m deepad`) drives the very same calls.
"""

__version__ = "0.1.0"

from deepad.errors import DeepADError  # noqa: E402,F401
