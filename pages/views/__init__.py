"""The numbers behind the dashboard's pages that only the pages use, one module per page where a
page has its own: `train` (the Train page's set-up), `forms` (the widgets generated from a
detector's config), `uploads` (a user's own data file), `lesson` and `explore`. The numbers the
library shares with the pages (`deepad.api`'s figures, `deepad.export`) stay in `deepad.views`.
Nothing here imports Streamlit; a page imports each name from the module that defines it.
"""
