"""What the tests of Deep SVDD-VAE, AnoEAN and the autoencoder share: the split they train on and a short fit."""

from __future__ import annotations

from deepad.detectors import registry


KNOWN = [7, 9]  # classes of the labelled anomalies in the contract split


def contract_split(split_factory, dataset="mnist"):
    """Normal class plus 20 labelled anomalies: AnoEAN needs them, the others must leave them out."""
    if dataset == "breast-cancer":  # tabular: class 1 (benign) normal, malignant anomalous
        return split_factory(dataset="breast-cancer", normal=[1], known_anomalies=20)
    return split_factory(normal=[1], known_anomalies=20, known_classes=KNOWN)


def fit(name, split, seed=0, val=True, **params):
    det = registry.get(name)(params, seed=seed)
    records = []
    det.fit(split.train, split.val if val else None, on_epoch=lambda r, s=None: records.append(r))
    return det, records


def train_normals(split):
    return split.train.x[split.train.known_label != -1]
