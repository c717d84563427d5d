from deepad.detectors.r2ad2.detector import R2AD2, R2AD2Config  # noqa: F401
