"""`webkeras check MODEL` (options: server/cli.py): does the model give in a headless browser
tab what it gives natively?

Prints a table (per output: shape, max |diff|, worst index, tolerance, ok) and timings.
Exit status 0 when every output is within the tolerance, 1 when one is not, 2 when the model,
the inputs, Chromium or the tab's runtime cannot be used.
"""

import functools
import logging
import sys
import tempfile
import time

import webkeras
from playwright.sync_api import sync_playwright

from .compare import compare, load_native, output_names, random_inputs, read_inputs
from .tab import TabError, open_browser, tab_inputs

USAGE_ERROR = 2
MISMATCH = 1


def fail(message):
    print(f"webkeras check: {message}", file=sys.stderr)
    return USAGE_ERROR


def timed(fn, *args):
    started = time.perf_counter()
    value = fn(*args)
    return value, time.perf_counter() - started


def shown_shape(diff):
    if diff.tab_shape is None:
        return str(diff.shape)
    return f"{diff.shape}, tab {diff.tab_shape}"


def table(rows):
    header = ("output", "shape", "max |diff|", "worst index", "tolerance", "ok")
    cells = [header] + [(d.name, shown_shape(d), f"{d.max_diff:.3g}", str(list(d.worst_index)),
                         f"{d.atol:g}", "yes" if d.ok else "NO") for d in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
                     for row in cells)


def run(args):
    try:
        native, native_load = timed(load_native, args.model)
        arrays = tab_inputs(read_inputs(args.inputs, native) if args.inputs
                            else random_inputs(native))
    except (OSError, ValueError, TypeError, KeyError) as error:
        return fail(str(error))
    x = arrays[0] if len(arrays) == 1 else arrays
    # The server's request log is not part of the command's report.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="webkeras-check-") as profile, \
            sync_playwright() as playwright:
        try:
            with open_browser(playwright, profile) as browser:
                tab, boot = timed(browser.tab, args.backend)
                loaded, tab_load = timed(tab.load_model, args.tab_model or args.model)
                tab_outputs, tab_predict = timed(loaded.predict, arrays)
        except (OSError, ValueError, TabError) as error:
            return fail(str(error))
    native_outputs, native_predict = timed(functools.partial(native.predict, verbose=0), x)
    diffs = compare(native_outputs, tab_outputs, output_names(native, loaded), args.atol)
    print(f"webkeras check {args.model}: model '{native.name}', {len(arrays[0])} samples; "
          f"tab on {tab.backend} ({loaded.device}) vs native {webkeras.backend.backend()}")
    print(table(diffs))
    print(f"timings: boot {boot:.2f} s; load tab {tab_load:.2f} s, native {native_load:.2f} s; "
          f"predict tab {tab_predict:.3f} s, native {native_predict:.3f} s")
    bad = [d for d in diffs if not d.ok]
    if bad:
        print("\n".join(f"over tolerance: {d.describe()}" for d in bad))
        return MISMATCH
    return 0
