"""EGBAD (Zenati et al. 2018): a BiGAN trained on the whole training set (everything not labelled
anomalous), scored with Eq. 2 (see `deepad.detectors._shared.bigan`). When the training set is
polluted, it learns the anomalies too: Ma et al.'s baseline. By default D is spectrally
normalised and the score uses the exponential moving average of the weights (as EGBAD's code
does); without both, clean EGBAD fell below 0.5 AUC on some seeds (bench/egbad_stability.py)."""

from __future__ import annotations

import copy

from deepad.data.parts import Part
from deepad.detectors._shared.bigan import BiGANDetector
from deepad.detectors.torch_utils import as_tensor

from . import SPEC, EGBADConfig  # noqa: F401


class EGBAD(BiGANDetector):
    spec = SPEC

    def phases(self, train: Part, val: Part | None):
        if self.config.weight_average > 0:
            self.average = copy.deepcopy(self.model)
        x = as_tensor(train.x[train.known_label != -1], self.device)
        yield self._train_phase(x, self.config.epochs, self._optimizers(self.config.lr))
        if self.average is not None:  # the average is what scores from now on
            self.model, self.average = self.average, None
