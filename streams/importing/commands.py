"""Running the import's commands through the executor's CommandRunner, and counting their calls.

A `CommandFailed` becomes an exception the import acts on: `RunFailure` when the connection is
gone (the whole run fails), `ItemFailure` otherwise (that customer is listed as an error).
"""

from __future__ import annotations

import asyncio
from typing import Any

from schemas.commands import CreateCrmCompany, CreateCrmPerson, UpdateQboCustomer
from schemas.envelope import Envelope, type_of
from schemas.outcomes import CommandFailed, CommandSucceeded
from streams.importing.ports import CommandRunner
from streams.importing.reading import Calls

NOT_CONNECTED = "not_connected"
CRM_COMMANDS = "qbsync.command.crm."
CRM_RETRY_PAUSES_S = (
    0.2,
    0.5,
    1.0,
    2.0,
    4.0,
)  # adapters/executor/failures.py: QBO revoked, no CRM key


class RunFailure(Exception):
    """The whole run cannot go on (the QBO connection or the CRM key is gone)."""


class ItemFailure(Exception):
    """One command failed for good: the customer is listed as an error, the run goes on."""

    def __init__(self, reason: str, code: str | None = None) -> None:
        super().__init__(reason)
        self.code = code


class Commands:
    def __init__(self, runner: CommandRunner, calls: Calls) -> None:
        self.runner = runner
        self.calls = calls

    async def run(self, command: Envelope) -> dict[str, Any]:
        """The command's result, or ItemFailure / RunFailure.

        A CRM command that failed for a passing reason (5xx, 429, timeout, after the adapter's
        own retries) is run again a few times: the runner looks before it creates, so a create
        whose answer was lost is found rather than made twice. QBO commands are not: QBO answers
        a repeated requestid with its first answer, the failure included.
        """
        outcome = await self.runner.run(command)
        self._count(command, outcome)
        for pause in CRM_RETRY_PAUSES_S:
            if not (
                isinstance(outcome, CommandFailed)
                and outcome.data.retryable
                and type_of(type(command)).startswith(CRM_COMMANDS)
            ):
                break
            await asyncio.sleep(pause)
            outcome = await self.runner.run(command)
            self._count(command, outcome)
        if isinstance(outcome, CommandFailed):
            if outcome.data.code == NOT_CONNECTED:
                raise RunFailure(outcome.data.reason)
            raise ItemFailure(outcome.data.reason, outcome.data.code)
        return outcome.data.result

    def _count(self, command: Envelope, outcome: CommandSucceeded | CommandFailed) -> None:
        """Writes from the outcome; a create looks first (one call, and no write when it finds
        the record); a stale QBO update re-reads before each retry. The adapters' own retries of
        transient errors are not counted."""
        writes = outcome.data.attempts
        if isinstance(command, CreateCrmPerson | CreateCrmCompany):
            found = isinstance(outcome, CommandSucceeded) and outcome.data.result.get(
                "found_existing"
            )
            self.calls.crm += 1 + (0 if found else writes)
        elif isinstance(command, UpdateQboCustomer):
            self.calls.qbo += 2 * writes - 1
        else:
            self.calls.crm += writes
