"""CRM commands. Pipeline takes no idempotency key (ADR 0007), so creates LOOK BEFORE CREATE:
a person by exact email, a company by exact name. A command run again after a crash finds what
its first run made instead of making it twice; so does a create whose answer was lost
(`maybe_applied`), which is looked up once more before it is given up.
"""

from __future__ import annotations

from typing import Any

from adapters.crm.errors import CrmError
from adapters.crm.ports import CrmGateway
from adapters.executor.failures import OutcomeUnknownError
from adapters.executor.outcomes import Writes, as_json
from engine.fields import normalise
from schemas.commands import (
    CreateCrmCompany,
    CreateCrmPerson,
    PostCrmNotification,
    UpdateCrmPerson,
)

Result = dict[str, Any]


async def create_person(crm: CrmGateway, command: CreateCrmPerson, writes: Writes) -> Result:
    """`found_existing` is true when the person was there before this run wrote anything."""
    data = command.data
    email = normalise(data.fields.get("email"))
    if email and (found := await crm.find_people_by_email(email)):
        return {"person": as_json(found[0]), "found_existing": True}  # the oldest (rule 4.3)
    writes.one()
    try:
        person = await crm.create_person(data.fields, company_id=data.company_id)
    except CrmError as exc:
        if not exc.maybe_applied:
            raise
        if not email:
            raise OutcomeUnknownError(
                f"the CRM may have created this person (answer lost: {exc}) and, without an "
                "email, it cannot be looked up: check the CRM before running it again"
            ) from exc
        found = await crm.find_people_by_email(email)
        if not found:
            raise  # it did not land: running the command again looks first, so it is safe
        return {"person": as_json(found[0]), "found_existing": False}  # our create landed
    return {"person": as_json(person), "found_existing": False}


async def create_company(crm: CrmGateway, command: CreateCrmCompany, writes: Writes) -> Result:
    name = command.data.name
    if (found := await crm.find_company_by_name(name)) is not None:
        return {"company": as_json(found), "found_existing": True}
    writes.one()
    try:
        company = await crm.create_company(name)
    except CrmError as exc:
        if not exc.maybe_applied or (found := await crm.find_company_by_name(name)) is None:
            raise
        return {"company": as_json(found), "found_existing": False}  # our create landed
    return {"company": as_json(company), "found_existing": False}


async def update_person(crm: CrmGateway, command: UpdateCrmPerson, writes: Writes) -> Result:
    writes.one()  # a PUT of the same fields: idempotent by nature
    person = await crm.update_person(command.data.person_id, command.data.fields)
    return {"person": as_json(person)}


async def post_notification(
    crm: CrmGateway, command: PostCrmNotification, writes: Writes
) -> Result:
    writes.one()  # no key to dedupe on: a summary posted twice beats one lost (ADR 0007)
    posted = await crm.post_account_notification(command.data.title, command.data.message)
    return {"notification": as_json(posted)}
