"""`/_sandbox/...`: the control endpoints a test or a developer uses on the sandbox.

No authentication: the sandbox is a loopback tool. Intuit has nothing like these; they stand in
for what one would otherwise do by hand in a QBO sandbox company (or cannot do at all, like
moving time forward).

- `GET  /_sandbox/clock`, `POST /_sandbox/clock/advance?seconds=`
- `GET  /_sandbox/realms`
- `POST /_sandbox/realms/{realm}/reset`, `POST /_sandbox/realms/{realm}/seed?customers=&seed=`
- `GET  /_sandbox/realms/{realm}/stats`: entity counts, API requests by kind, throttling
- `GET  /_sandbox/realms/{realm}/{entity}/{id}`: an entity, bypassing OAuth
- `POST /_sandbox/realms/{realm}/customers/merge?from_id=&into_id=`: QBO's UI merge
- `POST /_sandbox/realms/{realm}/invoices/{id}/payment?amount=`: a customer pays (part of) it
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from sandbox.qbo.clock import SandboxClock
from sandbox.qbo.entities import spec_for_path
from sandbox.qbo.faults import QboFault
from sandbox.qbo.seed import seed_realm
from sandbox.qbo.store import QboStore
from sandbox.qbo.throttle import ThrottleLedger


def make_admin_router(
    store: QboStore, clock: SandboxClock, ledger: ThrottleLedger | None = None
) -> APIRouter:
    router = APIRouter(prefix="/_sandbox")

    def unknown(realm_id: str) -> JSONResponse | None:
        if store.has_realm(realm_id):
            return None
        return JSONResponse({"error": f"unknown realm {realm_id}"}, status_code=404)

    @router.get("/clock")
    def now() -> dict[str, str]:
        return {"now": clock.stamp(clock.now())}

    @router.post("/clock/advance")
    def advance(seconds: float) -> dict[str, str]:
        return {"now": clock.stamp(clock.advance(seconds))}

    @router.get("/realms")
    def realms() -> dict[str, list[str]]:
        return {"realms": store.realm_ids()}

    @router.post("/realms/{realm_id}/reset", response_model=None)
    def reset(realm_id: str) -> JSONResponse | dict[str, str]:
        if (problem := unknown(realm_id)) is not None:
            return problem
        store.reset_realm(realm_id)
        return {"realm_id": realm_id, "status": "reset"}

    @router.post("/realms/{realm_id}/seed", response_model=None)
    def seed(realm_id: str, customers: int, seed: int = 42) -> JSONResponse | dict[str, Any]:
        if (problem := unknown(realm_id)) is not None:
            return problem
        return {"realm_id": realm_id, "entities": seed_realm(store, realm_id, customers, seed)}

    @router.get("/realms/{realm_id}/stats", response_model=None)
    def stats(realm_id: str) -> JSONResponse | dict[str, Any]:
        if (problem := unknown(realm_id)) is not None:
            return problem
        with store.locked(realm_id) as realm:
            counts = realm.counts()
        if ledger is not None:
            counts["throttle"] = ledger.stats()["realms"].get(realm_id, {})
        return {"realm_id": realm_id, **counts}

    @router.get("/realms/{realm_id}/{entity}/{entity_id}", response_model=None)
    def read(realm_id: str, entity: str, entity_id: str) -> JSONResponse | dict[str, Any]:
        if (problem := unknown(realm_id)) is not None:
            return problem
        try:
            spec = spec_for_path(entity)
            return {spec.name: store.read(realm_id, spec.name, entity_id)}
        except QboFault as fault:
            return fault.response(clock)

    @router.post("/realms/{realm_id}/customers/merge", response_model=None)
    def merge(realm_id: str, from_id: str, into_id: str) -> JSONResponse | dict[str, Any]:
        if (problem := unknown(realm_id)) is not None:
            return problem
        try:
            return {"Customer": store.merge_customers(realm_id, from_id, into_id)}
        except QboFault as fault:
            return fault.response(clock)

    @router.post("/realms/{realm_id}/invoices/{invoice_id}/payment", response_model=None)
    def payment(realm_id: str, invoice_id: str, amount: float) -> JSONResponse | dict[str, Any]:
        if (problem := unknown(realm_id)) is not None:
            return problem
        try:
            return {"Invoice": store.receive_payment(realm_id, invoice_id, amount)}
        except QboFault as fault:
            return fault.response(clock)

    return router
