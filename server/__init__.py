"""The webkeras web server: a thin Flask app that serves the web app, the Pyodide runtime and
the datasets. The library does the work; endpoints only serve files and small JSON.

    webkeras serve --port 8000      # then open http://127.0.0.1:8000/train

The app factory is `webkeras.server.app.create_app`. Nothing is imported here: pytest loads
webkeras.server.testing.plugin in every session, also where Flask (an extra) is missing.
"""
