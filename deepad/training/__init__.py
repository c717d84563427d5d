"""A run: validated config -> data -> fit in a background thread -> results on disk."""

from deepad.training.config import RunConfig, validate_config  # noqa: F401
