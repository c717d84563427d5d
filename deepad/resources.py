"""Where the files that are not Python live: the dashboard (`app.py`, `pages/`, `serve.py`) and
`assets/` (presets, the page icon, the presenter CSS).

In the checkout they sit beside the `deepad/` folder. An installed package (`pip install .`, a
wheel) carries them inside itself, as `deepad/_dashboard/` (setup.py maps the checkout's top level
there), so `deepad app` and the presets work from any folder. An editable install reads the
checkout's own files.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
INSTALLED_DASHBOARD = PACKAGE_DIR / "_dashboard"


def dashboard_dir() -> Path:
    """The folder holding app.py, serve.py, pages/ and assets/ (the checkout, else the installed copy)."""
    checkout = PACKAGE_DIR.parent
    if (checkout / "app.py").is_file() and (checkout / "assets").is_dir():
        return checkout
    return INSTALLED_DASHBOARD


def assets_dir() -> Path:
    return dashboard_dir() / "assets"
