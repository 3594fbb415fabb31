"""Progress bars for training loops and `step.run`: tqdm when installed, else a plain one.

`progress(iterable=None, total=None, desc=None, enabled=None, file=None)` takes the tqdm
arguments a fit loop uses and returns an object with tqdm's `update(n)`, `set_postfix_str(s)`,
`write(line)`, `close()`, iteration and `with`. `enabled`: None (the default) shows the bar only
when the output stream (stderr by default) is a terminal, so logs, pipes and tests see nothing;
True forces it on, False off. tqdm is optional (the `progress` extra installs it).
"""

import sys
import time

_MIN_INTERVAL = 0.1  # seconds between redraws: at most ~10 a second
_WIDTH = 24  # characters of the bar itself


def _tqdm():
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm


def wanted(enabled, file=None):
    """Whether to draw: `enabled` when given, else whether `file` (stderr) is a terminal."""
    if enabled is not None:
        return bool(enabled)
    f = sys.stderr if file is None else file
    try:
        return bool(f.isatty())
    except (AttributeError, ValueError):  # a closed or file-like stream without isatty
        return False


def progress(iterable=None, total=None, desc=None, enabled=None, file=None, unit="it"):
    """Wrap `iterable` (or count to `total`) with a progress bar: tqdm's when it is installed.

    The result has tqdm's `update(n)`, `set_postfix_str(s)`, `write(line)`, `close()`, iteration
    and `with`. `enabled=None` draws only when `file` (stderr by default) is a terminal; True
    forces the bar on, False off. Without tqdm a plain bar redraws at most ten times a second
    and ends with a newline.
    """
    if total is None and iterable is not None:
        try:
            total = len(iterable)
        except TypeError:
            total = None
    on = wanted(enabled, file)
    tqdm = _tqdm()
    if tqdm is not None:
        return tqdm(iterable, total=total, desc=desc, disable=not on, file=file,
                    mininterval=_MIN_INTERVAL, unit=unit, dynamic_ncols=True)  # fmt: skip
    return PlainBar(iterable, total, desc, on, file, unit)


def _fmt_time(s):
    s = int(s)
    return (
        f"{s // 60:02d}:{s % 60:02d}"
        if s < 3600
        else f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"
    )


class PlainBar:
    """The bar without tqdm: one line on `file` (stderr), redrawn in place with a carriage
    return at most every 0.1 s, ended with a newline by `close()`."""

    def __init__(self, iterable=None, total=None, desc=None, enabled=True, file=None, unit="it"):
        self.iterable, self.total, self.desc, self.unit = iterable, total, desc, unit
        self.enabled = enabled
        self.file = file
        self.n = 0
        self.postfix = ""
        self._start = self._last = time.monotonic()
        self._closed = False
        self._drawn = False
        self._width = 0

    def __iter__(self):
        try:
            for x in self.iterable:
                yield x
                self.update(1)
        finally:
            self.close()

    def __len__(self):
        return self.total

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def update(self, n=1):
        self.n += n
        now = time.monotonic()
        if now - self._last >= _MIN_INTERVAL or (self.total is not None and self.n >= self.total):
            self._draw(now)

    def write(self, s, file=None):
        """Print a line (to stdout) above the bar, as tqdm's `write` does."""
        f = sys.stderr if self.file is None else self.file
        if self._drawn and not self._closed:
            f.write("\r" + " " * self._width + "\r")
            f.flush()
        print(s, file=sys.stdout if file is None else file, flush=True)
        if self._drawn and not self._closed:
            self._draw(time.monotonic())

    def set_postfix_str(self, s="", refresh=True):
        self.postfix = str(s)
        if refresh:
            self._draw(time.monotonic())

    def line(self, now=None):
        """The bar as text (without the leading carriage return)."""
        elapsed = (time.monotonic() if now is None else now) - self._start
        head = f"{self.desc}: " if self.desc else ""
        rate = self.n / elapsed if elapsed > 0 else 0.0
        if self.total:
            frac = min(self.n / self.total, 1.0)
            fill = int(frac * _WIDTH)
            bar = "#" * fill + "-" * (_WIDTH - fill)
            left = (self.total - self.n) / rate if rate > 0 else 0.0
            times = f"{_fmt_time(elapsed)}<{_fmt_time(left)}, {rate:.1f} {self.unit}/s"
            text = f"{head}{frac * 100:3.0f}%|{bar}| {self.n}/{self.total} [{times}]"
        else:
            text = f"{head}{self.n} {self.unit} [{_fmt_time(elapsed)}, {rate:.1f} {self.unit}/s]"
        return text + (f" {self.postfix}" if self.postfix else "")

    def _draw(self, now):
        self._last = now
        if not self.enabled or self._closed:
            return
        f = sys.stderr if self.file is None else self.file
        text = self.line(now)
        f.write("\r" + text + " " * max(0, self._width - len(text)))  # wipe a longer last line
        f.flush()
        self._width = len(text)
        self._drawn = True

    def close(self):
        if self._closed:
            return
        self._draw(time.monotonic())
        self._closed = True
        if self._drawn:
            f = sys.stderr if self.file is None else self.file
            f.write("\n")
            f.flush()
