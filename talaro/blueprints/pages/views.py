"""Server-rendered pages for the browser: one blueprint, one small module per area.

Every page does the same three things as an API view: parse the request, call the
service layer (which holds every business rule and permission check), and show
the outcome, as a flash message and, on failure, the service's own message with
its status. Forms carry a CSRF token; `talaro.auth.enforce_csrf` checks it.

    account     /login, /register, /logout, /account/password, /account/settings (time zone)
    dashboard   /
    resumes     /resumes, /resumes/upload, /resumes/<id>, /resumes/<id>/delete
    candidates  /candidates, /candidates/<id>
    jobs        /jobs
    interviews  /interviews, /interviews/new, /interviews/<id>, /interviews/<id>/feedback,
                /interviews/<id>/reschedule, /interviews/<id>/cancel, /interviews/<id>/no-show
    users       /users (ADMIN)
    security    /security (ADMIN): the security stream and the audit chains
"""

from flask import Blueprint

bp = Blueprint("pages", __name__)

# The area modules register their routes on `bp`, so they are imported after it exists.
from talaro.blueprints.pages import (  # noqa: E402
    account,
    candidates,
    dashboard,
    display,
    interviews,
    jobs,
    resumes,
    security,
    users,
)

__all__ = [
    "account",
    "bp",
    "candidates",
    "dashboard",
    "display",
    "interviews",
    "jobs",
    "resumes",
    "security",
    "users",
]
