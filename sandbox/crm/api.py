"""`/api/v3`: people, companies and deals (CRUD and association reads), users, profile, account,
account notifications (reference 2.1, 3.3). The admin namespace is in api_admin.py.

Show, create and update answer 200 with the bare object; delete 204 with no body; PATCH is PUT
(the gem implements it; no recording uses it). The `.json` suffix is removed before routing
(transport.py). Lists take `page`, `per_page`, `conditions[...]` and association params.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response

from sandbox.crm import errors
from sandbox.crm.account_records import add_notification
from sandbox.crm.account_views import account_json, notification_json, profile_json, user_json
from sandbox.crm.auth import authenticate
from sandbox.crm.conditions import Conditions
from sandbox.crm.errors import CrmJSONResponse
from sandbox.crm.inputs import query_params, read_body, read_root
from sandbox.crm.listing import paginate
from sandbox.crm.store import CrmStore, Model, Row
from sandbox.crm.views import Views

COLLECTIONS: dict[str, Model] = {"people": "person", "companies": "company", "deals": "deal"}
_WRITE_OPTIONS = ("check_for_duplicates",)


def render(store: CrmStore, model: Model, row: Row, views: Views | None = None) -> dict[str, Any]:
    views = views or Views(store)
    return {"person": views.person, "company": views.company, "deal": views.deal}[model](row)


def parse_id(text: str) -> int:
    if not text.isdigit():
        raise errors.not_found()
    return int(text)


class DataApi:
    def __init__(self, store: CrmStore) -> None:
        self.store = store
        self.router = APIRouter(prefix="/api/v3")
        for collection, model in COLLECTIONS.items():
            self._resource(collection, model)
        self._associations()
        self._account()

    def page(
        self, request: Request, rows: list[Row], show: Callable[[Row], dict[str, Any]]
    ) -> Response:
        config = self.store.config
        body = paginate(
            rows,
            query_params(request),
            show,
            default=min(config.per_page_default, config.per_page_max),
            cap=config.per_page_max,
        )
        return CrmJSONResponse(body)

    def list_records(self, request: Request, model: Model, extra: dict[str, Any]) -> Response:
        params = {**query_params(request), **extra}
        with self.store.locked() as store:
            predicates = Conditions(store).build(model, params.get("conditions"), params)
            rows = [row for row in store.tables[model].values() if all(p(row) for p in predicates)]
            views = Views(store)
            return self.page(request, rows, lambda row: render(store, model, row, views))

    # -- people, companies, deals ---------------------------------------------------------
    def _resource(self, collection: str, model: Model) -> None:
        store, router = self.store, self.router

        @router.get(f"/{collection}", name=f"list_{collection}")
        async def index(request: Request) -> Response:
            authenticate(request, store)
            return self.list_records(request, model, {})

        @router.post(f"/{collection}", name=f"create_{collection}")
        async def create(request: Request) -> Response:
            user = authenticate(request, store)
            body = await read_root(request, model)
            options = {k: request.query_params.get(k) in ("true", "1") for k in _WRITE_OPTIONS}
            row = store.create(model, body, user["id"], **options)
            with store.locked():
                return CrmJSONResponse(render(store, model, row))

        @router.get(f"/{collection}/{{record_id}}", name=f"show_{collection}")
        async def show(request: Request, record_id: str) -> Response:
            authenticate(request, store)
            with store.locked():
                row = store.get(model, parse_id(record_id))
                return CrmJSONResponse(render(store, model, row))

        async def update(request: Request, record_id: str) -> Response:
            user = authenticate(request, store)
            id_ = parse_id(record_id)
            store.get(model, id_)  # 404 before 400 for an unknown id
            row = store.update(model, id_, await read_root(request, model), user["id"])
            with store.locked():
                return CrmJSONResponse(render(store, model, row))

        for method in ("PUT", "PATCH"):
            router.add_api_route(
                f"/{collection}/{{record_id}}",
                update,
                methods=[method],
                name=f"update_{collection}_{method.lower()}",
            )

        @router.delete(f"/{collection}/{{record_id}}", name=f"delete_{collection}")
        async def destroy(request: Request, record_id: str) -> Response:
            user = authenticate(request, store)
            store.destroy(model, parse_id(record_id), user["id"])
            return Response(status_code=204)

    def _associations(self) -> None:
        nested: list[tuple[str, Model, str, Model]] = [
            ("companies", "company", "people", "person"),
            ("companies", "company", "deals", "deal"),
            ("people", "person", "deals", "deal"),
        ]
        for parent, parent_model, child, child_model in nested:
            self.router.add_api_route(
                f"/{parent}/{{record_id}}/{child}",
                self._children(parent_model, child_model),
                methods=["GET"],
                name=f"{parent}_{child}",
            )

    def _children(self, parent: Model, child: Model) -> Callable[..., Any]:
        async def read(request: Request, record_id: str) -> Response:
            authenticate(request, self.store)
            id_ = parse_id(record_id)
            self.store.get(parent, id_)
            return self.list_records(request, child, {f"{parent}_id": id_})

        return read

    # -- users, profile, account, notifications --------------------------------------------
    def _account(self) -> None:
        store, router = self.store, self.router

        @router.get("/users")
        async def users(request: Request) -> Response:
            authenticate(request, store)
            active = [u for u in store.rows("user") if u["deleted_at"] is None]
            return self.page(request, active, lambda u: user_json(store, u))

        @router.get("/users/{user_id}")
        async def user(request: Request, user_id: str) -> Response:
            authenticate(request, store)
            return CrmJSONResponse(user_json(store, store.get("user", parse_id(user_id))))

        @router.get("/profile")
        async def profile(request: Request) -> Response:
            return CrmJSONResponse(profile_json(store, authenticate(request, store)))

        @router.get("/account")
        async def account(request: Request) -> Response:
            authenticate(request, store)
            with store.locked():
                return CrmJSONResponse(account_json(store))

        @router.get("/account_notifications")
        async def notifications(request: Request) -> Response:
            me = authenticate(request, store)
            mine = [n for n in store.rows("account_notification") if n["user_id"] == me["id"]]
            return self.page(request, mine, lambda n: notification_json(store, n))

        @router.get("/account_notifications/{notification_id}")
        async def notification(request: Request, notification_id: str) -> Response:
            authenticate(request, store)
            row = store.get("account_notification", parse_id(notification_id))
            return CrmJSONResponse(notification_json(store, row))

        @router.post("/account_notifications")
        async def notify(request: Request) -> Response:
            me = authenticate(request, store)
            body = (await read_body(request)).get("account_notification")
            row = add_notification(store, body if isinstance(body, dict) else {}, me["id"])
            return CrmJSONResponse(notification_json(store, row))
