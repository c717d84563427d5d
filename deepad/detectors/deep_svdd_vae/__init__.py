from deepad.detectors.deep_svdd_vae.detector import DeepSVDDVAE, DeepSVDDVAEConfig  # noqa: F401
