"""QBO's v3 data API over HTTP: `/v3/company/{realmId}/...` (reference sections 1, 3-5, 7, 10).

Handlers translate HTTP to store operations and answer QBO's JSON: the entity under its
PascalCase name plus a top-level `time`, or a `Fault`. Writes carrying `?requestid=` are
answered once and replayed verbatim afterwards (status and body), per company.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse

from sandbox.qbo import faults
from sandbox.qbo.batch import run_batch
from sandbox.qbo.cdc import run_cdc
from sandbox.qbo.clock import SandboxClock
from sandbox.qbo.entities import spec_for_path, unsupported
from sandbox.qbo.faults import QboFault
from sandbox.qbo.query_eval import run_query
from sandbox.qbo.store import QboStore

# The control plane's `OAuthServer.authenticate`: None when the bearer token may use the
# company, else the response to send (401 lower-case fault, 403).
Authenticate = Callable[[str | None, str], Response | Awaitable[Response | None] | None]


class Rejected(Exception):
    """Raised by the auth dependency; the app answers with `response` as it is."""

    def __init__(self, response: Response) -> None:
        super().__init__("request rejected")
        self.response = response


def install_error_handlers(app: FastAPI) -> None:
    async def on_rejected(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, Rejected)
        return exc.response

    app.add_exception_handler(Rejected, on_rejected)


class DataApi:
    def __init__(
        self,
        store: QboStore,
        clock: SandboxClock,
        authenticate: Authenticate,
        batch_max_items: int,
    ) -> None:
        self._store = store
        self._clock = clock
        self._authenticate = authenticate
        self._batch_max_items = batch_max_items
        self.router = APIRouter(
            prefix="/v3/company/{realm_id}", dependencies=[Depends(self._authorize)]
        )
        route = self.router.add_api_route
        # Fixed paths first: `/query` would otherwise be taken for an entity named "query".
        route("/companyinfo/{company_id}", self.company_info, methods=["GET"])
        route("/query", self.query_by_get, methods=["GET"])
        route("/query", self.query_by_post, methods=["POST"])
        route("/cdc", self.cdc, methods=["GET"])
        route("/batch", self.batch, methods=["POST"])
        route("/{entity}/{entity_id}", self.read, methods=["GET"])
        route("/{entity}/{entity_id}/send", self.send, methods=["POST"])
        route("/{entity}", self.write, methods=["POST"])

    async def _authorize(self, request: Request, realm_id: str) -> None:
        verdict = self._authenticate(request.headers.get("authorization"), realm_id)
        if inspect.isawaitable(verdict):
            verdict = await verdict
        if verdict is not None:
            raise Rejected(verdict)

    # -- endpoints -------------------------------------------------------------------------

    async def company_info(self, request: Request, realm_id: str, company_id: str) -> Response:
        def run() -> dict[str, Any]:
            with self._store.locked(realm_id) as realm:
                if company_id != realm_id:
                    raise faults.not_found("CompanyInfo", company_id)
                return {"CompanyInfo": realm.company_info(self._clock.stamp(self._clock.now()))}

        return self._answer(request, realm_id, "companyinfo", run)

    async def query_by_get(self, request: Request, realm_id: str, query: str = "") -> Response:
        return self._answer(request, realm_id, "query", lambda: self._query(realm_id, query))

    async def query_by_post(self, request: Request, realm_id: str) -> Response:
        # The SELECT is the raw body (Content-Type: application/text).
        text = (await request.body()).decode("utf-8", errors="replace")
        return self._answer(request, realm_id, "query", lambda: self._query(realm_id, text))

    async def cdc(
        self,
        request: Request,
        realm_id: str,
        entities: str | None = None,
        changedSince: str | None = None,
    ) -> Response:
        def run() -> dict[str, Any]:
            with self._store.locked(realm_id) as realm:
                now = self._clock.now_precise()
                return {"CDCResponse": run_cdc(realm, entities, changedSince, now)}

        return self._answer(request, realm_id, "cdc", run)

    async def batch(self, request: Request, realm_id: str) -> Response:
        raw = await request.body()

        def run() -> dict[str, Any]:
            body = _json_object(raw)
            responses = run_batch(self._store, realm_id, body, self._batch_max_items, self._clock)
            return {"BatchItemResponse": responses}

        return self._answer(request, realm_id, "batch", run)

    async def read(self, request: Request, realm_id: str, entity: str, entity_id: str) -> Response:
        def run() -> dict[str, Any]:
            spec = spec_for_path(entity)
            return {spec.name: self._store.read(realm_id, spec.name, entity_id)}

        return self._answer(request, realm_id, "read", run)

    async def send(
        self,
        request: Request,
        realm_id: str,
        entity: str,
        entity_id: str,
        sendTo: str | None = None,
    ) -> Response:
        def run() -> dict[str, Any]:
            spec = spec_for_path(entity)
            return {spec.name: self._store.send(realm_id, spec.name, entity_id, sendTo or None)}

        return self._answer(request, realm_id, "send", run)

    async def write(
        self, request: Request, realm_id: str, entity: str, operation: str | None = None
    ) -> Response:
        """create, full/sparse update (body has an Id), `?operation=delete|void|update`."""
        raw = await request.body()
        store = self._store

        def run() -> dict[str, Any]:
            spec = spec_for_path(entity)
            body = _json_object(raw)
            kind = operation or ("update" if body.get("Id") not in (None, "") else "create")
            actions: dict[str, Callable[[], dict[str, Any]]] = {
                "create": lambda: store.create(realm_id, spec.name, body),
                "update": lambda: store.update(realm_id, spec.name, body),
                "delete": lambda: store.delete(realm_id, spec.name, body),
                "void": lambda: store.void(realm_id, spec.name, body),
            }
            action = actions.get(kind)
            if action is None:
                raise unsupported(f"Operation '{operation}' is not supported")
            return {spec.name: action()}

        return self._answer(request, realm_id, operation or _write_kind(raw), run)

    # -- helpers ---------------------------------------------------------------------------

    def _query(self, realm_id: str, text: str) -> dict[str, Any]:
        with self._store.locked(realm_id) as realm:
            now = self._clock.stamp(self._clock.now())
            return {"QueryResponse": run_query(realm, text, now)}

    def _answer(
        self, request: Request, realm_id: str, kind: str, run: Callable[[], dict[str, Any]]
    ) -> Response:
        """Run an operation, answer QBO's JSON, and keep/replay it under its requestid.

        Faults are turned into responses here, never left to an exception handler: QboFault is
        a frozen dataclass and Starlette resets `__traceback__` on handled exceptions."""
        request_id = request.query_params.get("requestid") if request.method == "POST" else None
        if not self._store.has_realm(realm_id):  # only if OAuth let through an unknown company
            fault = faults.authorization_failed(f"Company {realm_id} does not exist")
            return fault.response(self._clock)
        with self._store.locked(realm_id) as realm:
            realm.requests[kind] += 1
            if request_id and request_id in realm.replays:
                realm.requests["replayed"] += 1
                status, payload = realm.replays[request_id]
                return JSONResponse(payload, status_code=status)
            try:
                status, payload = 200, {**run(), "time": self._time()}
            except QboFault as fault:
                status, payload = fault.status, fault.body(self._clock)
            if request_id:
                realm.replays[request_id] = (status, payload)
        return JSONResponse(payload, status_code=status)

    def _time(self) -> str:
        return self._clock.now_precise().isoformat(timespec="milliseconds")


def _write_kind(raw: bytes) -> str:
    """create or update, for the request counters (a body that is not JSON counts as create)."""
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return "create"
    return "update" if isinstance(body, dict) and body.get("Id") not in (None, "") else "create"


def _json_object(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise faults.invalid_request(f"Request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise faults.invalid_request("Request body must be a JSON object")
    return body
