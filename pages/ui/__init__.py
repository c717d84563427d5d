"""What the pages share, one module per concern: `look` (user strings as text, badges, presenter
mode), `singletons` (the process-wide runs folder, run manager and projector), `current` (the current
run, its results, and why a page has nothing to show), `live` (following a run while it trains),
`widgets` (generated settings, the threshold, downloads). `train_data` and `train_presets` hold
the Train page's parts.

Numbers come from `pages.views`, figures from `deepad.figures`; these modules only draw. A page
imports each name from the module that defines it.
"""
