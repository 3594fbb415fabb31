"""`record_values()`: keep the value every taped op produced, for `tape` and `tg.viz.draw`.

A grad_fn knows its inputs, shapes and saved tensors, but not its output's values: the tensors in
between are usually gone by the time you draw the graph. Inside `with record_values():` each op's
output (when at most `max_numel` elements) is copied and kept by its grad_fn, so pictures and
listings show the data of every node, as micrograd's draw_dot does. The values of the latest
block stay available until the next block starts (or `clear()`).
"""

import numpy as np

from . import _graph as G
from . import _hooks

_active = []
_last = [None]


class record_values(_hooks.Tool):  # noqa: N801 (a context manager, named like one)
    """Context manager (or decorator): keep a copy of every taped op's output, at most `max_numel`
    elements, so that `tape` and `tg.viz.draw` show the values of each node.

    A tapegrad tool with no PyTorch counterpart. The values stay available after the block until
    the next one starts or `clear()`."""

    def __init__(self, max_numel=1024):
        self.max_numel = int(max_numel)
        self.values = {}  # grad_fn -> ndarray copy of the output
        self.inputs = {}  # (grad_fn, input index) -> (tensor key, ndarray copy) of a constant

    def __enter__(self):
        _last[0] = None
        _active.append(self)
        return super().__enter__()

    def __exit__(self, *exc):
        if self in _active:
            _active.remove(self)
        _last[0] = self
        return super().__exit__(*exc)

    def post(self, be, fname, args, out, state):
        """Tool hook called after each backend op: keep a copy of the output (and of the constant
        inputs, which the node does not point at) under the op's grad_fn, when small enough."""
        if fname in ("iop", "fill_", "copy_"):
            out = args[0] if fname != "iop" else args[1]
        fn = getattr(out, "grad_fn", None)
        if fn is None:
            return
        if out.numel() <= self.max_numel:
            self.values[fn] = np.array(be.to_numpy(out), copy=True)
        # inputs that need no gradient (constants): the node does not point at them
        for i, x in enumerate(_hooks.tensors_in(args)):
            if not x.requires_grad and x.numel() <= self.max_numel:
                self.inputs[(fn, i)] = (G.leaf_key(x), np.array(be.to_numpy(x), copy=True))

    def clear(self):
        """Forget the recorded values (and stop serving them as the latest block's)."""
        self.values.clear()
        self.inputs.clear()
        if _last[0] is self:
            _last[0] = None


def value_of(node, input_index=None):
    """The recorded output values of `node` (an ndarray), or (key, values) of its constant
    input `input_index`; None when not recorded."""
    for rec in (*_active, _last[0]):
        if rec is not None:
            if input_index is None:
                v = rec.values.get(node)
            else:
                v = rec.inputs.get((node, input_index))
            if v is not None:
                return v
    return None
