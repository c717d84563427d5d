from deepad.detectors.deep_svdd.detector import DeepSVDD, DeepSVDDConfig  # noqa: F401
