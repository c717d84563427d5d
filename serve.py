"""Start the dashboard: `python serve.py [streamlit options]` (what `make run` does).

The same as `streamlit run app.py [options]`, except that the server's warm-up (UMAP's numba
compilation, tens of seconds, and loading the default dataset) starts at launch, in background
threads of the server process, instead of when the first visitor opens a page.
"""

import sys
from pathlib import Path

from deepad.warmup import warm_up_server


def main() -> None:
    from streamlit.web import cli

    warm_up_server()
    sys.argv = ["streamlit", "run", str(Path(__file__).resolve().parent / "app.py"), *sys.argv[1:]]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
