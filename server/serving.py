"""Running the app: Flask's development server for `make run`, gunicorn for an operator.

    webkeras serve                      # development server, one thread per connection
    webkeras serve --workers 4          # gunicorn: 4 processes x THREADS threads

Both time out a connection that stops sending (a body shorter than its Content-Length no
longer holds a thread forever). Gunicorn's own limits bound the request line and headers;
the app bounds bodies (MAX_CONTENT_LENGTH) and conversions (server/convert_api.py).
"""

from werkzeug.serving import WSGIRequestHandler

# Seconds a connection may stay silent before the server drops it.
DEFAULT_TIMEOUT_S = 60
# Threads per gunicorn worker: a conversion waiting for one of its slots holds a thread, and
# with 8 the cheap requests (static files, dataset ranges) queued behind them (make loadtest:
# p50 ~1 s); threads only wait on I/O or the conversion child, so many cost little.
THREADS = 32


def handler_with_timeout(timeout_s):
    """A development-server request handler whose sockets time out after `timeout_s`."""

    class TimedRequestHandler(WSGIRequestHandler):
        timeout = timeout_s

        def version_string(self):
            # No software versions in the `Server` header.
            return "webkeras"

    return TimedRequestHandler


def run_development(app, host, port, timeout_s=DEFAULT_TIMEOUT_S, debug=False):
    app.run(host=host, port=port, debug=debug, threaded=True,
            request_handler=handler_with_timeout(timeout_s))


def _body_timeout(timeout_s):
    """A gunicorn `pre_request` hook: the socket a request's body comes on times out after
    `timeout_s` of silence (gthread reads bodies in blocking mode otherwise)."""

    def pre_request(worker, request):
        sock = getattr(getattr(request, "unreader", None), "sock", None)
        if sock is not None:
            sock.settimeout(timeout_s)

    return pre_request


def run_gunicorn(app, host, port, workers, timeout_s=DEFAULT_TIMEOUT_S):
    """Serves `app` with gunicorn (gthread workers) until interrupted."""
    from gunicorn.app.base import BaseApplication

    class Application(BaseApplication):
        def load_config(self):
            settings = {
                "bind": f"{host}:{port}", "workers": workers, "worker_class": "gthread",
                "threads": THREADS,
                # gthread: a silent keep-alive connection is closed after this many seconds;
                # a worker stuck past `timeout` is restarted by the arbiter.
                "keepalive": 5, "timeout": max(timeout_s, 30) * 2,
                "graceful_timeout": 30, "limit_request_line": 8190,
                "limit_request_fields": 100, "limit_request_field_size": 8190,
                "accesslog": "-", "pre_request": _body_timeout(timeout_s),
            }
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self):
            return app

    Application().run()
