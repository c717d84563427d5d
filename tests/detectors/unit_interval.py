"""What the tests of R2-AD2, EGBAD and Rt-BiGAN share: their tiny recipes and the split they train on."""

from __future__ import annotations

from deepad.detectors import registry


UNIT = "unit"  # the preprocessing these detectors ask the runner for on images


# Tiny recipes for the contract tests: every phase runs, in a few seconds.
TINY = {
    "r2ad2": {"t0": 1, "t": 1, "n_snapshots": 2, "ae_epochs": 2, "epochs": 2, "rep_dim": 2},
    "egbad": {"epochs": 2},
    "rt-bigan": {"meta_iterations": 4, "inner_steps": 2, "adapt_steps": 3, "rounds": 2, "round_epochs": 1,
                 "task_size": 5, "n_adapt": 5},
}


def contract_split(split_factory):
    """Digit 1 normal, 20 labelled anomalies (R2-AD2 needs them), 10 known normals (Rt-BiGAN needs
    them), 5 % unlabelled pollution."""
    return split_factory(normal=[1], known_anomalies=20, known_classes=[7, 9], known_normals=10,
                         pollution=0.05, preprocess=UNIT)


def fit(name, split, seed=0, val=True, **params):
    det = registry.get(name)({**TINY[name], **params}, seed=seed)
    records = []
    det.fit(split.train, split.val if val else None, on_epoch=lambda r, s=None: records.append(r))
    return det, records
