"""Time zones: the setting (API and pages), the schedule form read in the user's zone, times
shown in it, and the 409 that names the clashing interview (pages) without telling
telemetry whom it is with."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from talaro import telemetry
from talaro.blueprints.pages.display import format_local
from talaro.blueprints.pages.forms import local_input, local_time
from talaro.errors import Invalid
from talaro.extensions import db
from talaro.models import Interview, Role, User
from talaro.services import time_zones
from tests.browser.test_pages_forms import alert_text, sign_in
from tests.factories import Factory, RoleClients

NEW_YORK = time_zones.zone("America/New_York")


def stored(app: Flask, model: type, ident: str) -> object:
    with app.app_context():
        row = db.session.get(model, ident)
        db.session.expunge(row)
        return row


# The setting -------------------------------------------------------------------------


def test_the_api_sets_shows_and_clears_the_time_zone(as_role: RoleClients) -> None:
    me = as_role(Role.INTERVIEWER)
    assert me.get("/api/auth/me").json["time_zone"] is None
    changed = me.patch("/api/auth/me", json={"time_zone": "Asia/Kolkata"})
    assert changed.status_code == 200, changed.json
    assert changed.json["time_zone"] == "Asia/Kolkata"
    assert me.get("/api/auth/me").json["time_zone"] == "Asia/Kolkata"
    assert me.patch("/api/auth/me", json={"time_zone": None}).json["time_zone"] is None


def test_an_old_name_is_saved_as_todays(as_role: RoleClients) -> None:
    me = as_role(Role.INTERVIEWER)
    assert me.patch("/api/auth/me", json={"time_zone": "Asia/Calcutta"}).json["time_zone"] == (
        "Asia/Kolkata"
    )
    assert all(time_zones.is_zone(name) for name in time_zones.RENAMED.values())


@pytest.mark.parametrize(
    "name",
    ["Mars/Olympus_Mons", "asia/kolkata", "EST+5", "localtime", "", " UTC", "A" * 100, 5],
)
def test_the_api_refuses_what_is_not_an_iana_zone(
    app: Flask, as_role: RoleClients, name: object
) -> None:
    me = as_role(Role.RECRUITER)
    me.patch("/api/auth/me", json={"time_zone": "Europe/Paris"})
    refused = me.patch("/api/auth/me", json={"time_zone": name})
    assert refused.status_code == 422
    error = refused.json["error"]
    assert error["code"] == "validation_error"
    assert list(error["details"]["fields"]) == ["time_zone"]
    assert stored(app, User, me.user.id).time_zone == "Europe/Paris"  # unchanged


def test_every_name_the_api_accepts_is_an_available_zone() -> None:
    import zoneinfo

    names = set(time_zones.zone_names())
    assert names <= zoneinfo.available_timezones()
    assert {"UTC", "America/New_York", "Asia/Kolkata", "Europe/Paris"} <= names
    assert "localtime" not in names


def test_the_settings_page_saves_a_zone_and_refuses_a_wrong_one(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    user = make.user(Role.INTERVIEWER)
    token = sign_in(client, user)
    page = client.get("/account/settings").get_data(as_text=True)
    assert '<option value="America/New_York">' in page and 'list="time-zone-names"' in page

    wrong = client.post("/account/settings", data={"csrf_token": token, "time_zone": "Moon/Base"})
    assert wrong.status_code == 422
    body = wrong.get_data(as_text=True)
    assert 'id="f-time_zone-error"' in body and "Not an IANA time zone name" in body
    assert 'value="Moon/Base"' in body  # the form keeps what was typed
    assert stored(app, User, user.id).time_zone is None

    saved = client.post(
        "/account/settings",
        data={"csrf_token": token, "time_zone": "America/New_York"},
        follow_redirects=True,
    )
    assert saved.status_code == 200
    assert "Times are now shown in America/New_York." in saved.get_data(as_text=True)
    assert stored(app, User, user.id).time_zone == "America/New_York"


def test_the_browser_zone_is_saved_only_while_none_is_chosen(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    user = make.user(Role.INTERVIEWER)
    token = sign_in(client, user)
    dashboard = client.get("/").get_data(as_text=True)
    assert 'data-browser-zone-url="/account/browser-time-zone"' in dashboard
    assert 'src="/static/time-zone.js"' in dashboard

    bad = client.post("/account/browser-time-zone", data={"csrf_token": token, "time_zone": "X"})
    assert bad.status_code == 422
    sent = {"csrf_token": token, "time_zone": "Asia/Kolkata"}
    assert client.post("/account/browser-time-zone", data=sent).status_code == 204
    assert stored(app, User, user.id).time_zone == "Asia/Kolkata"
    assert "data-browser-zone-url" not in client.get("/").get_data(as_text=True)

    # A zone already saved (chosen on the settings page) is not overwritten by a browser.
    other = {"csrf_token": token, "time_zone": "Europe/Paris"}
    assert client.post("/account/browser-time-zone", data=other).status_code == 204
    assert stored(app, User, user.id).time_zone == "Asia/Kolkata"


def test_the_browser_zone_needs_the_csrf_token(client: FlaskClient, make: Factory) -> None:
    sign_in(client, make.user(Role.INTERVIEWER))
    refused = client.post("/account/browser-time-zone", data={"time_zone": "Asia/Kolkata"})
    assert refused.status_code == 403


# Showing times -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "shown"),
    [
        ("UTC", "2031-12-02 14:00 UTC"),
        ("America/New_York", "2031-12-02 09:00 EST (America/New_York)"),
        ("Asia/Kolkata", "2031-12-02 19:30 IST (Asia/Kolkata)"),
        ("America/Sao_Paulo", "2031-12-02 11:00 UTC-03 (America/Sao_Paulo)"),
        ("Asia/Kathmandu", "2031-12-02 19:45 UTC+05:45 (Asia/Kathmandu)"),
    ],
)
def test_a_time_is_shown_on_the_wall_clock_with_the_zone_name(zone: str, shown: str) -> None:
    instant = datetime(2031, 12, 2, 14, 0, tzinfo=UTC)
    assert format_local(instant, time_zones.zone(zone)) == shown


def test_summer_and_winter_show_their_own_abbreviation() -> None:
    assert format_local(datetime(2031, 7, 1, 13, 0, tzinfo=UTC), NEW_YORK) == (
        "2031-07-01 09:00 EDT (America/New_York)"
    )
    assert local_input(datetime(2031, 7, 1, 13, 0, tzinfo=UTC), NEW_YORK) == "2031-07-01T09:00"


def test_pages_show_times_in_the_users_zone(client: FlaskClient, make: Factory) -> None:
    recruiter = make.user(Role.RECRUITER, time_zone="Asia/Kolkata")
    make.interview(scheduled_by=recruiter, starts_at=datetime(2031, 12, 2, 14, 0, tzinfo=UTC))
    sign_in(client, recruiter)
    listing = client.get("/interviews").get_data(as_text=True)
    assert "2031-12-02 19:30 IST (Asia/Kolkata)" in listing
    assert "(UTC)" not in listing
    assert 'datetime="2031-12-02T14:00:00+00:00"' in listing  # machine-readable stays UTC


# The schedule form -------------------------------------------------------------------


def test_local_time_reads_the_wall_clock_of_the_zone() -> None:
    assert local_time("2031-12-02T09:00", NEW_YORK) == "2031-12-02T14:00:00+00:00"
    assert local_time("2031-07-01T09:00", NEW_YORK) == "2031-07-01T13:00:00+00:00"
    assert local_time("", NEW_YORK) == ""
    for text in ("tomorrow", "2031-12-02T09:00+01:00", "9999-12-31T23:00"):
        with pytest.raises(Invalid):
            local_time(text, NEW_YORK)


def test_dst_edges_a_skipped_time_is_refused_a_repeated_one_is_the_first() -> None:
    # New York, 2031: clocks go forward at 02:00 on 9 March and back at 02:00 on 2 November.
    with pytest.raises(Invalid) as skipped:
        local_time("2031-03-09T02:30", NEW_YORK)
    assert "does not exist in America/New_York" in skipped.value.details["fields"]["starts_at"][0]
    assert local_time("2031-03-09T03:00", NEW_YORK) == "2031-03-09T07:00:00+00:00"
    assert local_time("2031-11-02T01:30", NEW_YORK) == "2031-11-02T05:30:00+00:00"  # EDT
    assert local_time("2031-11-02T02:30", NEW_YORK) == "2031-11-02T07:30:00+00:00"  # EST


def schedule_form(client: FlaskClient, token: str, make: Factory, starts_at: str, **kw: str):
    recruiter_data = {
        "csrf_token": token,
        "candidate_id": kw.get("candidate_id") or make.candidate().id,
        "job_id": make.job().id,
        "interviewer_id": kw.get("interviewer_id") or make.user(Role.INTERVIEWER).id,
        "starts_at": starts_at,
        "duration_minutes": "60",
        "round": "technical",
    }
    return client.post("/interviews/new", data=recruiter_data)


def test_the_schedule_form_reads_the_start_in_the_users_zone(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    recruiter = make.user(Role.RECRUITER, time_zone="America/New_York")
    token = sign_in(client, recruiter)
    form = client.get("/interviews/new").get_data(as_text=True)
    assert "In your time zone, America/New_York" in form and "tz_offset" not in form

    response = schedule_form(client, token, make, "2031-11-02T01:30")  # the repeated hour
    assert response.status_code == 302
    interview_id = response.location.rsplit("/", 1)[1]
    interview = stored(app, Interview, interview_id)
    assert interview.starts_at == datetime(2031, 11, 2, 5, 30, tzinfo=UTC)
    shown = client.get(response.location).get_data(as_text=True)
    assert "Interview scheduled for 2031-11-02 01:30 EDT (America/New_York)." in shown


def test_a_time_the_clocks_skip_is_a_422_on_the_form(client: FlaskClient, make: Factory) -> None:
    token = sign_in(client, make.user(Role.RECRUITER, time_zone="America/New_York"))
    response = schedule_form(client, token, make, "2031-03-09T02:30")
    assert response.status_code == 422
    body = html.unescape(response.get_data(as_text=True))
    assert 'id="f-starts_at-error"' in body
    assert "2031-03-09 02:30 does not exist in America/New_York" in body


def test_without_a_zone_the_form_reads_utc(app: Flask, client: FlaskClient, make: Factory) -> None:
    token = sign_in(client, make.user(Role.RECRUITER))
    response = schedule_form(client, token, make, "2031-12-02T09:00")
    assert response.status_code == 302
    interview = stored(app, Interview, response.location.rsplit("/", 1)[1])
    assert interview.starts_at == datetime(2031, 12, 2, 9, 0, tzinfo=UTC)


# The API keeps UTC with an offset ----------------------------------------------------


def test_the_api_answers_iso_8601_with_an_offset_whatever_the_zone(
    as_role: RoleClients, make: Factory
) -> None:
    recruiter = as_role(Role.RECRUITER)
    recruiter.patch("/api/auth/me", json={"time_zone": "Asia/Kolkata"})
    body = {
        "candidate_id": make.candidate().id,
        "job_id": make.job().id,
        "interviewer_id": make.user(Role.INTERVIEWER).id,
        "starts_at": "2031-12-02T09:00:00-05:00",
        "duration_minutes": 30,
    }
    created = recruiter.post("/api/interviews", json=body)
    assert created.status_code == 201, created.json
    fetched = recruiter.get(f"/api/interviews/{created.json['id']}").json
    assert fetched["starts_at"] == "2031-12-02T14:00:00+00:00"
    assert fetched["ends_at"] == "2031-12-02T14:30:00+00:00"
    assert datetime.fromisoformat(fetched["starts_at"]).utcoffset() is not None


# The 409 ---------------------------------------------------------------------------


def everything_written(folder: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.jsonl*")))


def test_the_api_409_gives_the_clashing_interview_and_its_link(
    app: Flask, as_role: RoleClients, make: Factory
) -> None:
    recruiter = as_role(Role.RECRUITER)
    interviewer = make.user(Role.INTERVIEWER)
    first = make.interview(
        interviewer=interviewer, starts_at=datetime(2031, 12, 2, 14, 0, tzinfo=UTC)
    )
    body = {
        "candidate_id": make.candidate().id,
        "job_id": make.job().id,
        "interviewer_id": interviewer.id,
        "starts_at": "2031-12-02T14:30:00+00:00",
        "duration_minutes": 60,
    }
    clash = recruiter.post("/api/interviews", json=body)
    assert clash.status_code == 409
    error = clash.json["error"]
    assert error["code"] == "schedule_conflict"
    details = error["details"]
    assert details["conflicting_interview_id"] == first.id
    assert details["conflicting_interview"] == {
        "id": first.id,
        "starts_at": "2031-12-02T14:00:00+00:00",
        "ends_at": "2031-12-02T15:00:00+00:00",
        "url": f"/api/interviews/{first.id}",
        "page_url": f"/interviews/{first.id}",
    }
    assert recruiter.get(details["conflicting_interview"]["url"]).json["id"] == first.id

    # Rescheduling into the slot says the same.
    second = make.interview(
        interviewer=interviewer,
        scheduled_by=recruiter.user,
        starts_at=datetime(2031, 12, 3, 14, 0, tzinfo=UTC),
    )
    moved = recruiter.patch(
        f"/api/interviews/{second.id}", json={"starts_at": "2031-12-02T14:15:00+00:00"}
    )
    assert moved.status_code == 409
    assert moved.json["error"]["details"]["conflicting_interview"]["url"].endswith(first.id)


def test_the_page_409_names_and_links_the_clash_and_telemetry_gets_neither_name(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    recruiter = make.user(Role.RECRUITER, time_zone="Asia/Kolkata")
    interviewer = make.user(Role.INTERVIEWER)
    first = make.interview(
        interviewer=interviewer, starts_at=datetime(2031, 12, 2, 14, 0, tzinfo=UTC)
    )
    with app.app_context():
        name = db.session.get(Interview, first.id).candidate.name
    assert name

    token = sign_in(client, recruiter)
    response = schedule_form(client, token, make, "2031-12-02T20:00", interviewer_id=interviewer.id)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    alert = alert_text(page)
    assert alert == (
        f"The interviewer is already booked then: the interview with {name} at "
        "2031-12-02 19:30 IST (Asia/Kolkata) (60 minutes)."
    )
    links = re.findall(r'role="alert">.*?<a href="([^"]+)"', page, re.S)
    assert links == [f"/interviews/{first.id}"]
    assert client.get(links[0]).status_code == 200

    telemetry.shutdown(app)
    written = everything_written(Path(app.config["TALARO_TELEMETRY_DIR"]))
    assert "schedule_conflict" in written
    for part in (name, *name.split()):
        assert part not in written, f"{part!r} reached telemetry"


def test_a_candidate_name_is_escaped_in_the_conflict_link(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    interviewer = make.user(Role.INTERVIEWER)
    first = make.interview(
        interviewer=interviewer, starts_at=datetime(2031, 12, 2, 14, 0, tzinfo=UTC)
    )
    with app.app_context():
        db.session.get(Interview, first.id).candidate.name = "<b>Bobby</b> Tables"
        db.session.commit()
    token = sign_in(client, make.user(Role.RECRUITER))
    response = schedule_form(client, token, make, "2031-12-02T14:30", interviewer_id=interviewer.id)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "&lt;b&gt;Bobby&lt;/b&gt; Tables" in page and "<b>Bobby" not in page
