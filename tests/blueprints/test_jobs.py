"""Jobs through the API."""

from talaro.models import Role


def test_manager_creates_and_updates_jobs_everyone_lists_them(as_role) -> None:
    manager = as_role(Role.HIRING_MANAGER)
    created = manager.post(
        "/api/jobs", json={"title": "Data Engineer", "department": "Data", "description": "ETL"}
    )
    assert created.status_code == 201
    job_id = created.json["id"]
    updated = manager.patch(f"/api/jobs/{job_id}", json={"title": "Senior Data Engineer"})
    assert updated.status_code == 200 and updated.json["title"] == "Senior Data Engineer"
    assert updated.json["department"] == "Data"
    for role in Role:
        listed = as_role(role).get("/api/jobs")
        assert listed.status_code == 200
        assert [j["id"] for j in listed.json["items"]] == [job_id]
    assert as_role(Role.INTERVIEWER).get(f"/api/jobs/{job_id}").json["title"] == (
        "Senior Data Engineer"
    )
