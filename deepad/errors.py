"""The project's own error type: every message says what is wrong and what would be right."""


class DeepADError(ValueError):
    """Bad input or an unusable resource. The message is meant for the user as it stands."""


class TrainingFailed(RuntimeError):
    """A run could not go on (e.g. the loss became NaN). Carries the epoch and a hint."""

    def __init__(self, message: str, epoch: int | None = None, hint: str = ""):
        super().__init__(message)
        self.epoch = epoch
        self.hint = hint
