"""Plotly figures (and Vega-Lite charts) only the pages draw: the snapshots of training, the
decision plane, the latent chart one selects points on (`latent`), the own input's score
(`scores`), per-phase grids, comparisons and the sweep heatmap (`training`). They build on
`deepad.figures`, which holds the figures the library also draws (`deepad.api`'s `Run.figure`,
exported reports) and the shared style."""
