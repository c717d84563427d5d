from deepad.detectors.anoean.detector import AnoEAN, AnoEANConfig  # noqa: F401
