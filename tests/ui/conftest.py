"""The UI tests build the process's services from the test settings, and forget them after."""

from collections.abc import Iterator

import pytest

from viralshorts.integrations.services import use_services


@pytest.fixture(autouse=True)
def fresh_services() -> Iterator[None]:
    use_services(None)
    yield
    use_services(None)
