"""Every envelope the import makes, with ids derived from the request id, so a resumed or
redelivered run makes the very same commands, decisions and events (consumers dedupe on ids)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.ids import derived_id
from schemas.commands import (
    CreateCrmCompany,
    CreateCrmCompanyData,
    CreateCrmPerson,
    CreateCrmPersonData,
    PostCrmNotification,
    PostCrmNotificationData,
    RunImport,
    UpdateCrmPerson,
    UpdateCrmPersonData,
    UpdateQboCustomer,
    UpdateQboCustomerData,
)
from schemas.decisions import (
    AgreedValue,
    ImportFailed,
    ImportFailedData,
    ImportFinished,
    ImportFinishedData,
    ImportProgressed,
    ImportProgressedData,
    LinkMade,
    LinkMadeData,
)
from schemas.envelope import Envelope
from schemas.imports import ImportSummary
from schemas.qbo import (
    QboCustomer,
    QboCustomerChanged,
    QboCustomerChangedData,
    QboEstimate,
    QboEstimateChanged,
    QboEstimateChangedData,
    QboInvoice,
    QboInvoiceChanged,
    QboInvoiceChangedData,
    QboSalesDocument,
)
from store.import_run import ItemIntent

SOURCE = "/qbsync/import"
NOTIFICATION_TITLE = "QuickBooks import finished"


class Envelopes:
    """The envelopes of one import run (`job` is its RunImport)."""

    def __init__(self, job: RunImport, realm_id: str) -> None:
        self.job = job
        self.tenant = job.tenant
        self.request_id = job.data.request_id
        self.dry_run = job.data.dry_run
        self.realm_id = realm_id

    def id(self, action: str) -> str:
        return derived_id(self.request_id, action)

    def _meta(self, action: str, subject: str, time: datetime) -> dict[str, Any]:
        return {
            "id": self.id(action),
            "source": SOURCE,
            "subject": subject,
            "time": time,
            "tenant": self.tenant,
            "correlationid": self.request_id,
            "causationid": self.job.id,
        }

    # --- commands (run through the CommandRunner, never published) ---------------------------

    def create_company(self, key: str, name: str, now: datetime) -> CreateCrmCompany:
        return CreateCrmCompany(
            **self._meta(f"create-company:{key}", f"crm/company/{name}"[:500], now),
            data=CreateCrmCompanyData(name=name),
        )

    def create_person(self, customer_id: str, intent: ItemIntent, now: datetime) -> CreateCrmPerson:
        return CreateCrmPerson(
            **self._meta(f"create-person:{customer_id}", f"qbo/customer/{customer_id}", now),
            data=CreateCrmPersonData(fields=intent.create_fields, company_id=intent.company_id),
        )

    def update_person(
        self, customer_id: str, person_id: int, intent: ItemIntent, now: datetime
    ) -> UpdateCrmPerson:
        return UpdateCrmPerson(
            **self._meta(f"update-person:{customer_id}", f"crm/person/{person_id}", now),
            data=UpdateCrmPersonData(person_id=person_id, fields=intent.crm_updates),
        )

    def update_customer(
        self,
        customer_id: str,
        person_id: int,
        intent: ItemIntent,
        now: datetime,
        *,
        fields: dict[str, str | None] | None = None,
    ) -> UpdateQboCustomer:
        """The merged record to QBO; `fields`: a narrower second try (its own command id)."""
        action = f"update-customer:{customer_id}" + ("" if fields is None else ":keep-name")
        written = intent.qbo_updates if fields is None else fields
        return UpdateQboCustomer(
            **self._meta(action, f"qbo/customer/{customer_id}", now),
            data=UpdateQboCustomerData(
                realm_id=self.realm_id,
                customer_id=customer_id,
                sync_token=intent.qbo_sync_token,
                fields=written,
                base={path: intent.qbo_base.get(path) for path in written},
                person_id=person_id,
            ),
        )

    def notification(self, message: str, now: datetime) -> PostCrmNotification:
        return PostCrmNotification(
            **self._meta("notify", f"import/{self.request_id}", now),
            data=PostCrmNotificationData(title=NOTIFICATION_TITLE, message=message),
        )

    # --- decisions ----------------------------------------------------------------------------

    def link_made(
        self,
        customer_id: str,
        person: dict[str, Any],
        customer: dict[str, Any],
        intent: ItemIntent,
        *,
        person_created: bool,
        agreed: dict[str, AgreedValue],
        applied_qbo: set[str],
        now: datetime,
    ) -> LinkMade:
        person_id = int(person["id"])
        return LinkMade(
            **self._meta(f"link:{customer_id}", f"crm/person/{person_id}", now),
            data=LinkMadeData(
                input_id=self.request_id,
                person_id=person_id,
                customer_id=customer_id,
                realm_id=self.realm_id,
                via="import",
                crm=person,
                qbo=customer,
                qbo_sync_token=str(customer["SyncToken"]),
                import_request_id=self.request_id,
                person_created=person_created,
                agreed=agreed,
                crm_changes=intent.crm_changes,
                qbo_changes=tuple(c for c in intent.qbo_changes if c.field in applied_qbo),
                conflicts=intent.conflicts,
            ),
        )

    def progressed(self, counts: dict[str, int], total: int, now: datetime) -> ImportProgressed:
        processed = counts.get("processed", 0)
        return ImportProgressed(
            **self._meta(f"import-progress:{processed}", self._subject, now),
            data=ImportProgressedData(
                request_id=self.request_id, dry_run=self.dry_run, counts=counts, total=total
            ),
        )

    def finished(self, summary: ImportSummary, at: datetime) -> ImportFinished:
        return ImportFinished(
            **self._meta("import-finished", self._subject, at),
            data=ImportFinishedData(
                request_id=self.request_id, dry_run=self.dry_run, summary=summary.capped()
            ),
        )

    def failed(self, reason: str, at: datetime) -> ImportFailed:
        return ImportFailed(
            **self._meta("import-failed", self._subject, at),
            data=ImportFailedData(request_id=self.request_id, dry_run=self.dry_run, reason=reason),
        )

    @property
    def _subject(self) -> str:
        return f"import/{self.request_id}"

    # --- QBO records as they are now, for the decider and the documents projection -----------

    def customer_changed(self, customer: QboCustomer) -> QboCustomerChanged:
        """An already linked customer, for the rules of section 5 (4.7)."""
        return QboCustomerChanged(
            **self._meta(
                f"customer:{customer.Id}:v{customer.SyncToken}",
                f"qbo/customer/{customer.Id}",
                customer.MetaData.LastUpdatedTime,
            ),
            data=QboCustomerChangedData(realm_id=self.realm_id, op="updated", entity=customer),
        )

    def document_changed(self, document: QboSalesDocument) -> Envelope:
        """An invoice or estimate of a linked customer (4.5)."""
        kind = "invoice" if isinstance(document, QboInvoice) else "estimate"
        meta = self._meta(
            f"{kind}:{document.Id}:v{document.SyncToken}",
            f"qbo/{kind}/{document.Id}",
            document.MetaData.LastUpdatedTime,
        )
        if isinstance(document, QboInvoice):
            return QboInvoiceChanged(
                **meta,
                data=QboInvoiceChangedData(realm_id=self.realm_id, op="updated", entity=document),
            )
        if isinstance(document, QboEstimate):
            return QboEstimateChanged(
                **meta,
                data=QboEstimateChangedData(realm_id=self.realm_id, op="updated", entity=document),
            )
        raise TypeError(f"not an invoice or estimate: {type(document).__name__}")
