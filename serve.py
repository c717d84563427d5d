"""Start the dashboard: `python serve.py [streamlit options]` (what `make run` does).

The same as `streamlit run app.py [options]`, except that
- the server's warm-up (UMAP's numba compilation, tens of seconds, and loading the default
  dataset) starts at launch, in background threads of the server process, instead of when the
  first visitor opens a page;
- Streamlit's older multipage mode is off from the start. A `pages/` folder beside the main
  script switches that mode on until the process's first `st.navigation` call, so the very first
  request of a fresh server is routed by it: a direct link such as /latent?run=... on a server no
  one has opened yet would say "Page not found" before app.py registers its pages.
"""

import sys
from pathlib import Path

from deepad.warmup import warm_up_server


def main() -> None:
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    PagesManager.uses_pages_directory = False  # what st.navigation sets on its first call
    warm_up_server()
    sys.argv = ["streamlit", "run", str(Path(__file__).resolve().parent / "app.py"), *sys.argv[1:]]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
