"""Print options: `set_printoptions` and the state that _format.py reads.

PyTorch 2.13 exports only `set_printoptions`; `get_printoptions` and `printoptions` live in its
private `torch._tensor_str`, so they are kept here and not exported from the package.
"""

import contextlib
import dataclasses


@dataclasses.dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: object = None  # None: chosen from the values; otherwise used as a truth value


OPTS = _PrintOptions()

_PROFILES = {
    "default": (4, 1000, 3, 80),
    "short": (2, 1000, 2, 80),
    "full": (4, float("inf"), 3, 80),
}


def set_printoptions(
    precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None
):
    """PyTorch's: a profile first, then the given options over it. An unknown profile is ignored
    and `sci_mode` is always set (leaving it out goes back to automatic), as in PyTorch."""
    if profile in _PROFILES:
        OPTS.precision, OPTS.threshold, OPTS.edgeitems, OPTS.linewidth = _PROFILES[profile]
    if precision is not None:
        OPTS.precision = precision
    if threshold is not None:
        OPTS.threshold = threshold
    if edgeitems is not None:
        OPTS.edgeitems = edgeitems
    if linewidth is not None:
        OPTS.linewidth = linewidth
    OPTS.sci_mode = sci_mode


def get_printoptions():
    """The options as a dict that `set_printoptions(**d)` accepts."""
    return dataclasses.asdict(OPTS)


@contextlib.contextmanager
def printoptions(**kwargs):
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)
