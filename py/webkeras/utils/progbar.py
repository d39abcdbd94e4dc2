"""Keras's terminal progress bar: `469/469 ━━━━━━━━━━━━━━━━━━━━ 3s 6ms/step - loss: 0.2718`."""

import math
import sys
import time


class Progbar:
    def __init__(self, target, width=20, verbose=1, unit_name="step", stream=None):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.unit_name = unit_name
        self.stream = stream or sys.stdout
        self._start = time.time()
        self._values = {}
        self._last_len = 0
        self._last_draw = 0.0
        self._dynamic = hasattr(self.stream, "isatty") and self.stream.isatty()

    def update(self, current, values=None, finalize=None):
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for key, value in (values or {}).items():
            self._values[key] = value
        if self.verbose == 2 and finalize:
            self._write_summary_line(current)
        if self.verbose != 1:
            return
        now = time.time()
        # Redraw at most every 50 ms (and always at the end): printing is not free.
        if not finalize and now - self._last_draw < 0.05:
            return
        self._last_draw = now
        line = self._bar(current) + self._timing(current, now, finalize) + self._metrics()
        if self._dynamic:
            padding = " " * max(0, self._last_len - len(line))
            self.stream.write("\r" + line + padding)
        elif finalize:
            self.stream.write(line)
        self._last_len = len(line)
        if finalize:
            self.stream.write("\n")
        self.stream.flush()

    def _write_summary_line(self, current):
        """verbose=2: `469/469 - 3s - 6ms/step - loss: 0.2718`, once, at the end."""
        elapsed = time.time() - self._start
        per_unit = elapsed / current if current else 0.0
        count = f"{current}/{self.target}" if self.target is not None else f"{current}/Unknown"
        line = (f"{count} - {elapsed:.0f}s - {_format_per_unit(per_unit, self.unit_name)}"
                + self._metrics())
        self.stream.write(line + "\n")
        self.stream.flush()

    def _bar(self, current):
        if self.target is None:
            return f"{current}/Unknown"
        digits = int(math.log10(max(self.target, 1))) + 1
        done = int(self.width * current / max(self.target, 1))
        bold = "\x1b[1m{}\x1b[0m" if self._dynamic else "{}"
        head = bold.format(f"{current:{digits}d}/{self.target}")
        if self._dynamic:
            bar = f"\x1b[32m{'━' * done}\x1b[0m\x1b[37m{'━' * (self.width - done)}\x1b[0m"
        else:
            bar = "━" * self.width
        return f"{head} {bar}"

    def _timing(self, current, now, finalize):
        elapsed = now - self._start
        per_unit = elapsed / current if current else 0.0
        if finalize or self.target is None:
            return f" {int(elapsed)}s {_format_per_unit(per_unit, self.unit_name)}"
        eta = per_unit * (self.target - current)
        return f" {_format_eta(eta)} {_format_per_unit(per_unit, self.unit_name)}"

    def _metrics(self):
        out = ""
        for key, value in self._values.items():
            # Values may be device tensors: read back only here, when a line is drawn.
            value = float(value.numpy() if hasattr(value, "numpy") else value)
            out += f" - {key}: {value:.4f}" if abs(value) > 1e-3 else f" - {key}: {value:.4e}"
        return out


def _format_per_unit(seconds, unit):
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


def _format_eta(seconds):
    if seconds > 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds > 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(seconds)}s"
