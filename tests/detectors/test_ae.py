"""The autoencoder baseline: its score is the squared reconstruction error, and it detects."""

from __future__ import annotations

import numpy as np
import torch

from deepad import metrics
from tests.detectors.code_space import fit


# -- autoencoder -----------------------------------------------------------------------------------
def test_ae_score_is_the_squared_reconstruction_error_and_it_detects(split_factory):
    split = split_factory(normal=[0])
    det, records = fit("ae", split, epochs=4, batch_size=50, val=False)
    assert records[-1]["loss"] < records[0]["loss"]
    x = split.test.x[:50]
    with torch.no_grad():
        det.encoder.eval(), det.decoder.eval()
        x_hat = det.decoder(det.encoder(torch.as_tensor(x))).numpy().reshape(x.shape)
        code = det.encoder(torch.as_tensor(x)).numpy()
    assert np.allclose(det.score(x), ((x - x_hat) ** 2).reshape(len(x), -1).sum(1), rtol=1e-5)
    assert np.allclose(det.embed(x), code, atol=1e-6)
    assert metrics.auc(split.test.target, det.score(split.test.x)) > 0.8
