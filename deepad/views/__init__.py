"""The numbers behind a run's views that the library shares with the dashboard: `runs` (history,
losses, diagnostics), `evaluate` (threshold, curves), `latent`, `samples`, `collapse`, and `common`
for what several share. `deepad.api`'s figures and `deepad.export` read them; the pages' own view
numbers live with the pages, in `pages/views/`. Nothing here imports Streamlit.
"""
