"""The numbers behind the dashboard's pages that only the pages use: `train` (the Train page's
set-up), `forms` (the widgets generated from a detector's config), `uploads` (a user's own data
file), `lesson` and `explore`. Nothing here imports Streamlit.

The package re-exports these modules' public names and `deepad.views`' (the view numbers the
library shares with the pages), so a page can write `vm.progress(...)` whichever module defines it.
"""

from deepad.views import *  # noqa: F401,F403
from pages.views.explore import *  # noqa: F401,F403
from pages.views.forms import *  # noqa: F401,F403
from pages.views.lesson import *  # noqa: F401,F403
from pages.views.train import *  # noqa: F401,F403
from pages.views.uploads import *  # noqa: F401,F403
