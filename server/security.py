"""Headers every response carries, and the rule that only this site's pages may POST.

The pages load nothing from elsewhere and run no inline script, so the Content-Security-Policy
allows scripts from this origin only, never inline ones. Evaluating strings stays allowed:
Pyodide's runtime `eval`s the JavaScript that compiled extension modules carry (EM_ASM/EM_JS),
and it compiles WebAssembly at run time. Styles may be inline (CodeMirror and Chart.js set
them). No page may be framed.
"""

from urllib.parse import urlsplit

from flask import jsonify, request

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self' 'unsafe-eval' 'wasm-unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def add_headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def refuse_cross_origin_writes():
    """A POST from another site's page (its `Origin` is not this server) gets 403: a page
    elsewhere must not make a visitor's browser use this server."""
    origin = request.headers.get("Origin")
    if request.method not in UNSAFE_METHODS or origin is None:
        return None
    here = urlsplit(request.host_url)
    there = urlsplit(origin)
    if (there.scheme, there.netloc) == (here.scheme, here.netloc):
        return None
    response = jsonify(error="forbidden", path=request.path,
                       message=f"Requests from other sites' pages ({origin[:100]}) are not "
                               "accepted; use this server's own page, or call the API without "
                               "a browser.")
    response.status_code = 403
    return response


def install(app):
    app.before_request(refuse_cross_origin_writes)
    app.after_request(add_headers)
