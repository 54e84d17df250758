"""The engine's decisions: every input is accounted for as applied or deliberately ignored."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.common import FrozenModel
from schemas.envelope import Envelope

IgnoreReason = Literal[
    "not_linked", "echo", "disabled", "direction", "duplicate", "not_installed", "not_handled"
]


class InputAccountedData(FrozenModel):
    input_id: str = Field(min_length=1, description="id of the input event")
    input_type: str = Field(min_length=1, description="wire type of the input event")


class InputIgnoredData(InputAccountedData):
    reason: IgnoreReason
    detail: str = ""


class InputAppliedData(InputAccountedData):
    command_ids: tuple[str, ...] = ()


class InputIgnored(Envelope):
    type: Literal["qbsync.decision.input.ignored.v1"] = "qbsync.decision.input.ignored.v1"
    data: InputIgnoredData


class InputApplied(Envelope):
    type: Literal["qbsync.decision.input.applied.v1"] = "qbsync.decision.input.applied.v1"
    data: InputAppliedData


DECISIONS: tuple[type[Envelope], ...] = (InputIgnored, InputApplied)
