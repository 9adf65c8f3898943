"""Security headers on every response: the browser is told to run only this site's own files.

The Content-Security-Policy allows scripts, styles, images, audio and requests from this origin only, and no
inline script or style at all (the templates keep theirs in each package's static/ folder), so an injected
`<script>` or `onclick=` does nothing. Pages may not be framed (clickjacking), content types are not
guessed, and other sites are not told which page a link was followed from (URLs hold ticket references).
TwiML and JSON carry the same headers; Twilio and API clients ignore them.
"""

from __future__ import annotations

from flask import Flask, Response

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _add_security_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)  # a view that needs another value sets its own
    return response


def init_app(app: Flask) -> None:
    app.after_request(_add_security_headers)
