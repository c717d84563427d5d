"""The base of every user-facing config (a run's, its set-up's, each detector's): numbers must be
finite (no inf, no NaN) and whole numbers fit in 64 bits, so a value that passes validation never
fails later deep inside numpy, torch or scikit-learn."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

INT_LIMIT = 2 ** 63 - 1


class ConfigModel(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _whole_numbers_fit(cls, value, info: ValidationInfo):
        for v in value if isinstance(value, (list, tuple)) else (value,):
            if isinstance(v, int) and not isinstance(v, bool) and abs(v) > INT_LIMIT:
                raise ValueError(f"{info.field_name}={v}: too large a number; whole numbers here must lie "
                                 f"within ±{INT_LIMIT}")
        return value
