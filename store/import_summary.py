"""The import summary is a wire type (it travels in `ImportFinished`); defined in schemas."""

from schemas.imports import (
    AmbiguousMatch,
    ConflictKept,
    ImportProblem,
    ImportSummary,
    SkippedCustomer,
    WouldClear,
)

__all__ = [
    "AmbiguousMatch",
    "ConflictKept",
    "ImportProblem",
    "ImportSummary",
    "SkippedCustomer",
    "WouldClear",
]
