"""The numbers behind a run's views that the library shares with the dashboard: `runs` (history,
losses, diagnostics), `evaluate` (threshold, curves), `latent`, `samples`, `collapse`, and `common`
for what several share. `deepad.api`'s figures and `deepad.export` read them; the pages' own view
numbers live with the pages, in `pages/views/`. Nothing here imports Streamlit.
"""

from deepad.views.collapse import *  # noqa: F401,F403
from deepad.views.common import *  # noqa: F401,F403
from deepad.views.evaluate import *  # noqa: F401,F403
from deepad.views.latent import *  # noqa: F401,F403
from deepad.views.runs import *  # noqa: F401,F403
from deepad.views.samples import *  # noqa: F401,F403
