"""Command outcomes: what the executor did with a command; they loop back to the decider."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from schemas.common import FrozenModel
from schemas.envelope import Envelope


class OutcomeData(FrozenModel):
    command_id: str = Field(min_length=1)
    command_type: str = Field(min_length=1)
    attempts: int = Field(ge=1)


class CommandSucceededData(OutcomeData):
    # What the remote system answered that the engine needs: new ids, SyncToken, updated_at, and
    # the values written (so the echo of this write can be recognised).
    result: dict[str, Any] = Field(default_factory=dict)


class CommandFailedData(OutcomeData):
    reason: str = Field(min_length=1)
    code: str | None = Field(default=None, description="remote error code, e.g. QBO 6240")
    retryable: bool = Field(description="an operator may retry it; the executor has given up")


class CommandSucceeded(Envelope):
    type: Literal["qbsync.outcome.succeeded.v1"] = "qbsync.outcome.succeeded.v1"
    data: CommandSucceededData


class CommandFailed(Envelope):
    type: Literal["qbsync.outcome.failed.v1"] = "qbsync.outcome.failed.v1"
    data: CommandFailedData


OUTCOMES: tuple[type[Envelope], ...] = (CommandSucceeded, CommandFailed)
