"""A webhook receiver for the tests: records every POST, answers each path from a script."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request, Response


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode()))


@dataclass
class Receiver:
    """`scripts[path]` is a list of answers (a status, or a float: seconds to stall, then 200);
    the last one repeats."""

    base: str = ""
    received: list[Received] = field(default_factory=list)
    scripts: dict[str, list[int | float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "hook") -> str:
        return f"{self.base}/{path}"

    def at(self, path: str = "hook") -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    def wait_for(self, count: int, path: str | None = None, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                found = [r for r in self.received if path is None or r.path == path]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.01)

    def clear(self) -> None:
        with self.lock:
            self.received.clear()
            self.scripts.clear()

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/{path:path}")
        async def hook(path: str, request: Request) -> Response:
            body = await request.body()
            with self.lock:
                self.received.append(Received(path, dict(request.headers), body, time.monotonic()))
                script = self.scripts.get(path) or [200]
                answer = script.pop(0) if len(script) > 1 else script[0]
            if isinstance(answer, float):
                await asyncio.sleep(answer)
                answer = 200
            return Response(status_code=int(answer))

        return app
