"""The detectors, one folder each (see `registry` for how they are found and `spec` for what a
folder declares). Shared implementation pieces live in `_shared`, which is not a detector."""
