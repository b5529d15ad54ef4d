"""Security headers on every response, and cookie flags for HTTPS deployments.

Flask-Talisman would do this, but it is not in our package index and the whole job is
one `after_request` hook with fixed values, so it lives here.

The pages load only same-origin files (no inline script, style or event handler), so the
content security policy needs no 'unsafe-inline' and no nonces. `TALARO_SECURE_COOKIES`
says the service is reached over HTTPS: cookies get `Secure` and responses get HSTS.
"""

from __future__ import annotations

from flask import Flask, Response

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    # frame-ancestors covers current browsers; X-Frame-Options the older ones.
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}

HSTS_HEADER = "Strict-Transport-Security"
DEFAULT_HSTS_MAX_AGE = 365 * 24 * 3600


def security_headers(secure: bool, hsts_max_age: int = DEFAULT_HSTS_MAX_AGE) -> dict[str, str]:
    """The headers every response carries; HSTS only when the service is served over HTTPS."""
    headers = dict(SECURITY_HEADERS)
    if secure:
        headers[HSTS_HEADER] = f"max-age={hsts_max_age}; includeSubDomains"
    return headers


def init_app(app: Flask) -> None:
    """Turn on secure cookie flags behind HTTPS and add the headers to every response."""
    secure = bool(app.config.get("TALARO_SECURE_COOKIES"))
    if secure:
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    headers = security_headers(secure, app.config.get("TALARO_HSTS_MAX_AGE", DEFAULT_HSTS_MAX_AGE))

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response
