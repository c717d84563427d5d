"""The project's own error type: every message says what is wrong and what would be right."""


class DeepADError(ValueError):
    """Bad input or an unusable resource. The message is meant for the user as it stands."""


class BadValuesError(DeepADError):
    """A user's file has rows with missing, NaN or infinite values; loading again with
    drop_bad_rows=True drops exactly those rows."""


class MixedImageSizesError(DeepADError):
    """A user's images come in several sizes; loading again with an image_size resizes them all.
    `suggested` is the most common size as (height, width)."""

    def __init__(self, message: str, suggested: tuple[int, int]):
        super().__init__(message)
        self.suggested = suggested


class TrainingFailed(RuntimeError):
    """A run could not go on (e.g. the loss became NaN). Carries the epoch and a hint."""

    def __init__(self, message: str, epoch: int | None = None, hint: str = ""):
        super().__init__(message)
        self.epoch = epoch
        self.hint = hint
