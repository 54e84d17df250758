"""The outcome envelope of a command, QBO request ids derived from the command id, JSON dumps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from adapters.executor.failures import Failure
from adapters.qbo.transport import MAX_REQUEST_ID
from engine.ids import derived_id
from schemas.envelope import Envelope
from schemas.outcomes import (
    CommandFailed,
    CommandFailedData,
    CommandSucceeded,
    CommandSucceededData,
)

SOURCE = "/qbsync/executor"
Outcome = CommandSucceeded | CommandFailed


class Writes:
    """Counts the remote writes a command made (its outcome's `attempts`)."""

    def __init__(self) -> None:
        self.count = 0

    def one(self) -> None:
        self.count += 1


def outcome_id(command_id: str) -> str:
    return derived_id(command_id, "outcome")


def request_id(command_id: str, attempt: str = "") -> str:
    """The QBO requestid of one write of a command: the command id itself for the first write,
    `<id>-<attempt>` for a deliberate second write (whose first answer QBO would only replay).

    Deterministic, so a re-run command sends the same ids in the same order and gets QBO's
    replays. Ids that would not fit QBO's 50 characters become a uuid5 of the same parts.
    """
    wanted = f"{command_id}-{attempt}" if attempt else command_id
    if len(wanted) <= MAX_REQUEST_ID:
        return wanted
    return derived_id(command_id, f"requestid:{attempt}")


def as_json(record: BaseModel) -> dict[str, Any]:
    """A remote record as JSON that validates back into its schemas.crm / schemas.qbo model."""
    dumped: dict[str, Any] = record.model_dump(mode="json", by_alias=True)
    return dumped


def _envelope_fields(command: Envelope, now: datetime) -> dict[str, Any]:
    return {
        "id": outcome_id(command.id),
        "source": SOURCE,
        "subject": command.subject,
        "time": now,
        "tenant": command.tenant,
        "correlationid": command.correlationid or command.id,
        "causationid": command.id,
    }


def succeeded(
    command: Envelope, result: dict[str, Any], attempts: int, now: datetime
) -> CommandSucceeded:
    data = CommandSucceededData(
        command_id=command.id,
        command_type=command.type,
        attempts=max(1, attempts),
        result=result,
    )
    return CommandSucceeded(**_envelope_fields(command, now), data=data)


def failed(command: Envelope, failure: Failure, attempts: int, now: datetime) -> CommandFailed:
    data = CommandFailedData(
        command_id=command.id,
        command_type=command.type,
        attempts=max(1, attempts),
        reason=failure.reason,
        code=failure.code,
        retryable=failure.retryable,
    )
    return CommandFailed(**_envelope_fields(command, now), data=data)
