"""Helpers behind the dashboard's pages: every number a page shows is computed here, one module
per page (`runs`, `train`, `evaluate`, `latent`, `samples`, `collapse`, `lesson`, `explore`), with `common`
for what several pages share, `forms` for the widgets generated from a detector's config and
`uploads` for a user's own data file.

The pages in `pages/` only read runs, call these functions and draw the results (with the figure
builders in `deepad.figures`). Nothing here imports Streamlit, so all of it can be tested and
reused from scripts. The package re-exports every module's public names, so a page can write
`vm.progress(...)` whichever module defines it.
"""

from deepad.views.collapse import *  # noqa: F401,F403
from deepad.views.common import *  # noqa: F401,F403
from deepad.views.evaluate import *  # noqa: F401,F403
from deepad.views.explore import *  # noqa: F401,F403
from deepad.views.forms import *  # noqa: F401,F403
from deepad.views.latent import *  # noqa: F401,F403
from deepad.views.lesson import *  # noqa: F401,F403
from deepad.views.runs import *  # noqa: F401,F403
from deepad.views.samples import *  # noqa: F401,F403
from deepad.views.train import *  # noqa: F401,F403
from deepad.views.uploads import *  # noqa: F401,F403
