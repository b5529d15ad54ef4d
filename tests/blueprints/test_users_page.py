"""The Users page's access actions: a temporary password and "sign out everywhere"."""

from __future__ import annotations

import html
import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from talaro.models import Role
from tests import factories
from tests.blueprints.test_sessions import bearer, records
from tests.browser.test_pages_forms import alert_text, sign_in

TEMPORARY = "a temporary passphrase 7"


def test_admin_signs_a_user_out_everywhere_from_the_users_page(
    app: Flask, make: factories.Factory
) -> None:
    user = make.user(Role.RECRUITER)
    victim = app.test_client()
    sign_in(victim, user)
    token = make.token(user)
    admin = app.test_client()
    csrf = sign_in(admin, make.user(Role.ADMIN))
    page = admin.get("/users").get_data(as_text=True)
    assert f"/users/{user.id}/sign-out-everywhere" in page

    done = admin.post(
        f"/users/{user.id}/sign-out-everywhere", data={"csrf_token": csrf}, follow_redirects=True
    )
    assert done.status_code == 200
    assert "signed out everywhere (1 session ended" in status_text(done.get_data(as_text=True))
    assert victim.get("/api/auth/me").status_code == 401
    assert app.test_client().get("/api/auth/me", headers=bearer(token)).status_code == 401
    [ended] = [r for r in records(app, "session_expired") if r.attributes.get("target.user.id")]
    assert ended.attributes["talaro.session.ended_count"] == 1
    assert ended.attributes["user.id"] != user.id  # the admin acted


def test_admin_sets_a_temporary_password_from_the_users_page(
    app: Flask, make: factories.Factory
) -> None:
    user = make.user(Role.INTERVIEWER)
    admin = app.test_client()
    csrf = sign_in(admin, make.user(Role.ADMIN))

    weak = admin.post(f"/users/{user.id}/password", data={"csrf_token": csrf, "password": "short"})
    assert weak.status_code == 422
    assert 'aria-invalid="true"' in weak.get_data(as_text=True)

    done = admin.post(
        f"/users/{user.id}/password",
        data={"csrf_token": csrf, "password": TEMPORARY},
        follow_redirects=True,
    )
    assert done.status_code == 200
    assert "must change it at the next sign-in" in status_text(done.get_data(as_text=True))
    signed = app.test_client().post(
        "/api/auth/login", json={"email": user.email, "password": TEMPORARY}
    )
    assert signed.status_code == 200
    assert signed.json["user"]["password_change_required"] is True
    [reset] = records(app, "authn_password_reset")
    assert reset.attributes["target.user.id"] == user.id
    assert reset.attributes["talaro.password.temporary"] is True
    assert TEMPORARY not in _all_telemetry(app)


def test_only_an_admin_may_use_the_access_actions(app: Flask, make: factories.Factory) -> None:
    user = make.user(Role.INTERVIEWER)
    manager = app.test_client()
    csrf = sign_in(manager, make.user(Role.HIRING_MANAGER))
    for action in ("sign-out-everywhere", "password"):
        refused = manager.post(
            f"/users/{user.id}/{action}", data={"csrf_token": csrf, "password": TEMPORARY}
        )
        assert refused.status_code == 403
    assert [r.attributes["event.outcome"] for r in records(app, "authz_fail")] == ["failure"] * 2


def test_the_admin_has_no_access_buttons_for_themself(
    client: FlaskClient, make: factories.Factory
) -> None:
    admin = make.user(Role.ADMIN)
    sign_in(client, admin)
    page = client.get("/users").get_data(as_text=True)
    assert f"/users/{admin.id}/sign-out-everywhere" not in page
    assert f"/users/{admin.id}/password" not in page


def test_admin_changes_a_role_and_deactivates_from_the_users_page(
    app: Flask, make: factories.Factory
) -> None:
    user = make.user(Role.INTERVIEWER, name="Nora Newcomer")
    admin = app.test_client()
    csrf = sign_in(admin, make.user(Role.ADMIN))

    role = admin.post(f"/users/{user.id}", data={"csrf_token": csrf, "role": "RECRUITER"})
    assert (role.status_code, role.location) == (302, "/users")
    assert status_text(admin.get("/users").get_data(as_text=True)) == (
        "Nora Newcomer is now Recruiter, active."
    )
    off = admin.post(
        f"/users/{user.id}", data={"csrf_token": csrf, "active": "false"}, follow_redirects=True
    )
    assert off.status_code == 200
    assert status_text(off.get_data(as_text=True)) == "Nora Newcomer is now Recruiter, deactivated."
    changes = [r.attributes["talaro.changes"] for r in records(app, "authz_change")]
    assert changes == [["role=INTERVIEWER->RECRUITER"], ["active=False"]]


def test_a_refused_users_page_action_shows_the_list_again_or_the_error_page(
    app: Flask, make: factories.Factory
) -> None:
    admin_user = make.user(Role.ADMIN)
    admin = app.test_client()
    csrf = sign_in(admin, admin_user)

    nothing = admin.post(f"/users/{admin_user.id}", data={"csrf_token": csrf})
    assert nothing.status_code == 422
    assert alert_text(nothing.get_data(as_text=True)) == "Nothing to change"
    myself = admin.post(f"/users/{admin_user.id}", data={"csrf_token": csrf, "role": "RECRUITER"})
    assert myself.status_code == 409
    assert alert_text(myself.get_data(as_text=True)) == (
        "Admins cannot demote or deactivate themselves"
    )
    # An unknown user: the forms show the list again with the message...
    for action in ("", "/password"):
        unknown = admin.post(
            f"/users/no-such-user{action}",
            data={"csrf_token": csrf, "role": "RECRUITER", "password": TEMPORARY},
        )
        assert unknown.status_code == 404
        page = unknown.get_data(as_text=True)
        assert "<h1>Users</h1>" in page and alert_text(page) == "User not found"
    # ...the sign-out button, which has no form to show again, the error page.
    button = admin.post("/users/no-such-user/sign-out-everywhere", data={"csrf_token": csrf})
    assert button.status_code == 404
    page = button.get_data(as_text=True)
    assert "<h1>Users</h1>" not in page and 'class="error-message">User not found' in page
    assert records(app, "authz_change") == []
    assert records(app, "authn_password_reset") == []
    assert [r for r in records(app, "session_expired") if "target.user.id" in r.attributes] == []


def status_text(page: str) -> str:
    """The success messages flashed on a page (its `role="status"` region)."""
    match = re.search(r'role="status">\s*(.*?)\s*</div>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip() if match else ""


def _all_telemetry(app: Flask) -> str:
    folder = Path(app.config["TALARO_TELEMETRY_DIR"])
    return "".join(path.read_text() for path in folder.rglob("*") if path.is_file())
