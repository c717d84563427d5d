"""Plotly figures (and Vega-Lite charts) the library draws and the pages share: `deepad.api`'s
`Run.figure`, exported reports and `deepad diagnose` use them. Each function takes plain numbers
(see `deepad.views`) and returns a `go.Figure` (or an Altair chart); none computes anything beyond
laying the numbers out. Large point clouds use WebGL (`go.Scattergl`). One module per subject:
`style` (colours, presenter mode), `scores`, `training` and `latent`. The figures only the pages
draw are in `pages/figures/`.
"""
