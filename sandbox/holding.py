"""Holding a request open, as a hung server does, for the sandboxes' timeout faults."""

from __future__ import annotations

import asyncio

from starlette.types import Receive


async def client_left_within(receive: Receive, seconds: float) -> bool:
    """Hold the connection; True as soon as the client hangs up, False after `seconds`."""

    async def disconnect() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    try:
        await asyncio.wait_for(disconnect(), seconds)
    except TimeoutError:
        return False
    return True
