"""Check in a headless browser tab that a model gives what it gives natively.

    tab.py      the server + headless Chromium, and a Tab driving webkeras in a page
    compare.py  native against tab, worst element per output
    plugin.py   the pytest plugin (fixtures `tab`, `assert_tab_matches_native`)
    check.py    `webkeras check MODEL`

Kept import-free (constants only): pytest loads the plugin in every session, and Flask and
Playwright (the test extras) load only when a test asks for a tab.
"""

# The tab's backends ("auto": webgpu where the browser has an adapter, else numpy) and the
# default largest |tab - native| per element; the CLI's options name them without the imports.
BACKENDS = ("webgpu", "numpy", "auto")
DEFAULT_ATOL = 1e-4
