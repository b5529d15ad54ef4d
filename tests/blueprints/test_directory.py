"""The interviewer directory: schedulers find who to book by name and email, nothing more."""

from __future__ import annotations

import pytest

from talaro.models import Role
from tests.factories import Factory


@pytest.mark.parametrize("role", [Role.HIRING_MANAGER, Role.RECRUITER])
def test_schedulers_list_interviewers_by_name_with_email_only(as_role, make: Factory, role) -> None:
    scheduler = as_role(role)
    zoe = make.user(Role.INTERVIEWER, name="Zoe Zhang")
    abe = make.user(Role.HIRING_MANAGER, name="Abe Adams")
    gone = make.user(Role.INTERVIEWER, name="Gone Away", active=False)

    response = scheduler.get("/api/interviewers")
    assert response.status_code == 200
    listed = response.json
    assert all(set(entry) == {"id", "name", "email"} for entry in listed), listed
    by_id = {entry["id"]: entry for entry in listed}
    assert by_id[zoe.id] == {"id": zoe.id, "name": "Zoe Zhang", "email": zoe.email}
    assert abe.id in by_id and scheduler.user.id in by_id
    assert gone.id not in by_id  # a deactivated account cannot be booked
    names = [entry["name"] for entry in listed]
    assert names == sorted(names)


def test_the_listed_id_is_what_scheduling_takes(as_role, make: Factory) -> None:
    recruiter = as_role(Role.RECRUITER)
    make.user(Role.INTERVIEWER, name="Ivy Interviewer")
    (ivy,) = [e for e in recruiter.get("/api/interviewers").json if e["name"] == "Ivy Interviewer"]
    booked = recruiter.post(
        "/api/interviews",
        json={
            "candidate_id": make.candidate().id,
            "job_id": make.job().id,
            "interviewer_id": ivy["id"],
            "starts_at": "2031-03-10T09:00:00+00:00",
            "duration_minutes": 30,
        },
    )
    assert booked.status_code == 201, booked.json


def test_the_schedule_form_offers_the_directory(as_role, make: Factory) -> None:
    recruiter = as_role(Role.RECRUITER)
    zoe = make.user(Role.INTERVIEWER, name="Zoe Zhang")
    gone = make.user(Role.INTERVIEWER, name="Gone Away", active=False)
    page = recruiter.get("/interviews/new").get_data(as_text=True)
    assert f'value="{zoe.id}"' in page and f"Zoe Zhang &lt;{zoe.email}&gt;" in page
    assert gone.id not in page
