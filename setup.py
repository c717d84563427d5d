"""Which files the package carries (everything else is in pyproject.toml).

`deepad` and its sub-packages, found as they are (a detector folder dropped in is carried too, with
its README.md and presets/*.json), and
the dashboard: the checkout's top level (app.py, serve.py, pages/, assets/, .streamlit/) goes into
the package as `deepad/_dashboard/`, so an installed `deepad app` and the presets work from any
folder (`deepad/resources.py` finds either place).
"""

from setuptools import find_packages, setup

DASHBOARD = "deepad._dashboard"

setup(
    packages=[*find_packages(include=["deepad", "deepad.*"]), DASHBOARD,
              *(f"{DASHBOARD}.{p}" for p in find_packages(include=["pages", "pages.*"]))],
    package_dir={DASHBOARD: "."},
    package_data={
        "deepad": ["detectors/*/README.md", "detectors/*/presets/*.json"],
        DASHBOARD: ["assets/*.png", "assets/*.css", ".streamlit/config.toml"],
    },
    include_package_data=False,  # only the files named here: no README or tests inside the package
    py_modules=[],
)
