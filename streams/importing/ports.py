"""What the import job needs from the shell: gateways per tenant, a command runner, a publisher.

`CommandRunner` is the executor's (adapters/executor/runner.py): it runs one command against QBO
or the CRM with look-before-create and requestids, and answers with its outcome; a remote failure
is a `CommandFailed`, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from adapters.executor.ports import CrmGateways, QboGateways
from adapters.ports import Publisher
from schemas.envelope import Envelope
from schemas.outcomes import CommandFailed, CommandSucceeded


class CommandRunner(Protocol):
    async def run(self, command: Envelope, /) -> CommandSucceeded | CommandFailed: ...


@dataclass(frozen=True)
class ImportGateways:
    """The same factories the executor is given: a QBO gateway per (tenant, realm), a CRM
    gateway per tenant (raising CrmNotConfiguredError when there is none)."""

    qbo: QboGateways
    crm: CrmGateways


__all__ = ["CommandRunner", "ImportGateways", "Publisher"]
