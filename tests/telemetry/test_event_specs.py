"""The catalogue as typed specs: only registered events can be emitted, and a record that
lacks the attributes its spec requires fails while testing."""

from __future__ import annotations

import pytest

from talaro import telemetry
from talaro.telemetry import catalogue, events
from talaro.telemetry.catalogue import (
    APPLICATION,
    CATALOGUE,
    INFO,
    EventSpec,
    UnknownEvent,
    register,
)
from tests.telemetry import otlp_json

THROWAWAY = EventSpec("job_archive", (APPLICATION,), INFO, ("database",), ("change",), ("job.id",))


@pytest.fixture
def throwaway_spec(monkeypatch: pytest.MonkeyPatch) -> EventSpec:
    """`job_archive` in the catalogue for this test only."""
    monkeypatch.setattr(catalogue, "CATALOGUE", dict(CATALOGUE))
    return register(THROWAWAY)


def test_a_registered_spec_is_emitted_to_its_stream(app, throwaway_spec, tmp_path) -> None:
    with app.test_request_context("/"):
        events.emit(throwaway_spec, attributes={"job.id": "j-1"})
    telemetry.shutdown(app)
    records = otlp_json.log_records(tmp_path / "logs" / "application.jsonl")
    archived = [r for r in records if r.event_name == "job_archive"]
    assert len(archived) == 1
    assert archived[0].attributes["job.id"] == "j-1"
    assert archived[0].attributes["talaro.stream"] == "application"


def test_an_unregistered_event_cannot_be_emitted(app) -> None:
    with app.test_request_context("/"), pytest.raises(UnknownEvent, match="job_archive"):
        events.emit(THROWAWAY, attributes={"job.id": "j-1"})
    with app.test_request_context("/"), pytest.raises(UnknownEvent, match="job_delte"):
        events.emit("job_delte")  # type: ignore[arg-type]


def test_an_unregistered_event_fails_with_telemetry_off_too(make_app) -> None:
    app = make_app(TALARO_TELEMETRY_ENABLED=False)
    with app.test_request_context("/"), pytest.raises(UnknownEvent):
        events.emit(THROWAWAY)


def test_a_spec_cannot_be_registered_twice(throwaway_spec) -> None:
    with pytest.raises(ValueError, match="already"):
        register(EventSpec("job_archive", (APPLICATION,), INFO, (), ()))


def test_a_misspelt_constant_fails_at_import() -> None:
    with pytest.raises(ImportError):
        exec("from talaro.telemetry.catalogue import JOB_DELTE", {})


def test_a_success_without_a_required_attribute_fails(app, throwaway_spec) -> None:
    with (
        app.test_request_context("/"),
        pytest.raises(events.MissingAttributes, match=r"job_archive \(success\).*job\.id"),
    ):
        events.emit(throwaway_spec)


def test_a_failure_must_carry_its_reason(app, throwaway_spec) -> None:
    with app.test_request_context("/"):
        events.emit(throwaway_spec, outcome=events.FAILURE, reason="archived already")
        with pytest.raises(events.MissingAttributes, match="reason"):
            events.emit(throwaway_spec, outcome=events.FAILURE)


def test_required_attributes_are_not_checked_in_production(make_app, throwaway_spec) -> None:
    app = make_app(TESTING=False)
    with app.test_request_context("/"):
        events.emit(throwaway_spec)  # recorded as it is, never a failed request
    telemetry.shutdown(app)


def test_every_spec_is_consistent() -> None:
    for name, spec in CATALOGUE.items():
        assert spec.name == name
        assert spec.streams and set(spec.streams) <= {"security", "application"}
        assert spec.category and spec.type, name
        assert spec.audited == ("security" in spec.streams)
