"""Every detector module is imported here so that the registry knows it."""

from deepad.detectors import deep_svdd  # noqa: F401
from deepad.detectors import shallow  # noqa: F401
from deepad.detectors import deep_svdd_vae  # noqa: F401
from deepad.detectors import anoean  # noqa: F401
from deepad.detectors import ae  # noqa: F401
from deepad.detectors import r2ad2  # noqa: F401
from deepad.detectors import bigan  # noqa: F401
