from deepad.detectors.bigan.detector import EGBAD, RtBiGAN  # noqa: F401
