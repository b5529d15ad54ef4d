import pytest


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """Every API test runs on SQLite and on the real PostgreSQL."""
    return request.param
