"""What the pages share, one module per concern: `look` (user strings as text, badges, presenter
mode), `singletons` (the process-wide runs folder, run manager and projector), `current` (the current
run, its results, and why a page has nothing to show), `live` (following a run while it trains),
`widgets` (generated settings, the threshold, downloads). `train_data` and `train_presets` hold
the Train page's parts.

Numbers come from `pages.views`, figures from `deepad.figures`; these modules only draw. The
package re-exports the shared modules' public names, so a page writes `ui.current_run()`.
"""

from pages.ui.current import *  # noqa: F401,F403
from pages.ui.live import *  # noqa: F401,F403
from pages.ui.look import *  # noqa: F401,F403
from pages.ui.singletons import *  # noqa: F401,F403
from pages.ui.widgets import *  # noqa: F401,F403
