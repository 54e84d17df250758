from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contract.qbo.drivers import PythonQuickbooksDriver, QboDriver
from tests.support.qbo_sandbox import RunningSandbox, fast_config, running_sandbox

DRIVERS = ["ours", "python-quickbooks"]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox(fast_config()) as running:
        yield running


@pytest.fixture(params=DRIVERS)
def driver(request: pytest.FixtureRequest, sandbox: RunningSandbox) -> QboDriver:
    if request.param == "python-quickbooks":
        return PythonQuickbooksDriver(sandbox)
    from tests.contract.qbo.our_driver import OurAdapterDriver

    return OurAdapterDriver(sandbox)
