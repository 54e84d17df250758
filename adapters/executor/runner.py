"""`CommandRunner`: runs ONE command against QBO or the CRM and says what happened.

It decides nothing: it does what the command says (qbo_commands, crm_commands), with the
safety each remote needs, and turns the answer into an outcome envelope. A remote failure the
adapters could not retry away becomes `CommandFailed` (failures.FAILURE_POLICY); `run` raises only
for bugs (an exception that is not a remote error), which the executor step dead-letters.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from adapters.executor import crm_commands, document_commands, qbo_commands
from adapters.executor.document_commands import LinkedPersonOf, nobody_is_linked
from adapters.executor.failures import REMOTE_ERRORS, UNSUPPORTED, Failure, failure_for
from adapters.executor.outcomes import Outcome, Writes, failed, succeeded
from adapters.executor.ports import Clock, CrmGateways, QboGateways
from qbsync.logs import get_logger
from schemas.commands import (
    ConvertQboEstimate,
    CreateCrmCompany,
    CreateCrmPerson,
    CreateQboCustomer,
    CreateQboEstimate,
    CreateQboInvoice,
    PostCrmNotification,
    SendQboDocument,
    UpdateCrmPerson,
    UpdateQboCustomer,
)
from schemas.envelope import Envelope

log = get_logger(__name__)
Result = dict[str, Any]
Handler = Callable[[Any, Writes], Awaitable[Result]]

STALE_RETRIES = 3  # re-read and re-apply after a 5010 at most this often
NAME_RETRIES = 5  # suffixes tried after a 6240: (CRM id), (CRM id-2), ... (CRM id-5)


class CommandRunner:
    def __init__(
        self,
        qbo_for: QboGateways,
        crm_for: CrmGateways,
        clock: Clock,
        *,
        stale_retries: int = STALE_RETRIES,
        name_retries: int = NAME_RETRIES,
        linked_person_of: LinkedPersonOf | None = None,
    ) -> None:
        """`linked_person_of` answers "who is this QBO customer linked to?" from the store, so
        a document for an unlinked person never picks a customer linked to someone else;
        without it (tests, tools) no customer counts as linked."""
        self._qbo_for = qbo_for
        self._crm_for = crm_for
        self._clock = clock
        self._stale_retries = stale_retries
        self._name_retries = name_retries
        self.linked_person_of = linked_person_of
        self._handlers: dict[type[Envelope], Handler] = {
            CreateQboCustomer: self._create_qbo_customer,
            UpdateQboCustomer: self._update_qbo_customer,
            CreateQboInvoice: self._create_qbo_document,
            CreateQboEstimate: self._create_qbo_document,
            SendQboDocument: self._send_qbo_document,
            ConvertQboEstimate: self._convert_qbo_estimate,
            CreateCrmPerson: self._create_crm_person,
            UpdateCrmPerson: self._update_crm_person,
            CreateCrmCompany: self._create_crm_company,
            PostCrmNotification: self._post_crm_notification,
        }

    def with_link_lookup(self, linked_person_of: LinkedPersonOf) -> CommandRunner:
        """The same runner, asking `linked_person_of` who a QBO customer is linked to."""
        return CommandRunner(
            self._qbo_for,
            self._crm_for,
            self._clock,
            stale_retries=self._stale_retries,
            name_retries=self._name_retries,
            linked_person_of=linked_person_of,
        )

    def knows(self, command: Envelope) -> bool:
        return type(command) in self._handlers

    async def run(self, command: Envelope) -> Outcome:
        handler = self._handlers.get(type(command))
        if handler is None:
            reason = f"the executor does not run {command.type}"
            return failed(command, Failure(reason, UNSUPPORTED, False), 1, self._clock())
        writes = Writes()
        try:
            result = await handler(command, writes)
        except REMOTE_ERRORS as exc:
            failure = failure_for(exc)
            log.warning(
                "command_failed",
                command_id=command.id,
                command_type=command.type,
                tenant=command.tenant,
                code=failure.code,
                retryable=failure.retryable,
                reason=failure.reason,
            )
            return failed(command, failure, writes.count, self._clock())
        return succeeded(command, result, writes.count, self._clock())

    # -- QBO ---------------------------------------------------------------------------------
    async def _create_qbo_customer(self, command: CreateQboCustomer, writes: Writes) -> Result:
        qbo = self._qbo_for(command.tenant, command.data.realm_id)
        return await qbo_commands.create_customer(qbo, command, writes, self._name_retries)

    async def _update_qbo_customer(self, command: UpdateQboCustomer, writes: Writes) -> Result:
        qbo = self._qbo_for(command.tenant, command.data.realm_id)
        return await qbo_commands.update_customer(qbo, command, writes, self._stale_retries)

    async def _create_qbo_document(
        self, command: CreateQboInvoice | CreateQboEstimate, writes: Writes
    ) -> Result:
        qbo = self._qbo_for(command.tenant, command.data.realm_id)
        return await document_commands.create_document(
            qbo,
            lambda: self._crm_for(command.tenant),  # read only for an unlinked person
            command,
            writes,
            name_retries=self._name_retries,
            linked_person_of=self.linked_person_of or nobody_is_linked,
        )

    async def _send_qbo_document(self, command: SendQboDocument, writes: Writes) -> Result:
        qbo = self._qbo_for(command.tenant, command.data.realm_id)
        return await document_commands.send_document(qbo, command, writes)

    async def _convert_qbo_estimate(self, command: ConvertQboEstimate, writes: Writes) -> Result:
        qbo = self._qbo_for(command.tenant, command.data.realm_id)
        return await document_commands.convert_estimate(qbo, command, writes)

    # -- CRM ---------------------------------------------------------------------------------
    async def _create_crm_person(self, command: CreateCrmPerson, writes: Writes) -> Result:
        return await crm_commands.create_person(self._crm_for(command.tenant), command, writes)

    async def _update_crm_person(self, command: UpdateCrmPerson, writes: Writes) -> Result:
        return await crm_commands.update_person(self._crm_for(command.tenant), command, writes)

    async def _create_crm_company(self, command: CreateCrmCompany, writes: Writes) -> Result:
        return await crm_commands.create_company(self._crm_for(command.tenant), command, writes)

    async def _post_crm_notification(self, command: PostCrmNotification, writes: Writes) -> Result:
        crm = self._crm_for(command.tenant)
        return await crm_commands.post_notification(crm, command, writes)
