"""`tg.autograd`: see beneath `backward()`.

- `tape(t)`: the recorded ops behind `t`, in order, with shapes, dtypes and what each saved.
- `backward_steps(t)`: backward one node at a time (a generator of printable steps).
- `gradcheck(fn, inputs)`: analytic gradients against float64 finite differences.
- `gradgradcheck(fn, inputs)`: second derivatives (create_graph=True) likewise.
- `check_backends()`: run every cpp op also on the NumPy reference and compare (lockstep).
- `detect_anomaly()`: raise at the first NaN/Inf in forward or backward, naming the op and the
  source line that created it; count float16 overflow/underflow per op.
- `grad(outputs, inputs)` / `backward(tensors)`: PyTorch's functional entry points; tensors
  take hooks (`register_hook`, `retain_grad`).
- `Function`: ops with a forward and backward of your own (`MyOp.apply(x)`).
- `record_values()`: keep every op's output while active, so `tape` and `tg.viz.draw` can show
  the data of intermediate results too.

Nothing here costs anything unless used: the tools that watch ops wrap the backend modules'
op functions only while they are active (docs/how-backward-works.md).
"""

from .._grad_mode import inference_mode
from . import functional  # noqa: F401  (tg.autograd.functional)
from ._anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from ._api import backward, grad
from ._gradcheck import GradcheckError, gradcheck
from ._gradgradcheck import gradgradcheck
from ._lockstep import BackendMismatchError, check_backends
from ._record import record_values
from ._tape import Step, Tape, TapeEntry, backward_steps, tape
from ._variable import Variable
from .function import Function, FunctionCtx, once_differentiable

__all__ = [
    "AnomalyError",
    "BackendMismatchError",
    "Function",
    "FunctionCtx",
    "GradcheckError",
    "Step",
    "Tape",
    "TapeEntry",
    "Variable",
    "backward",
    "backward_steps",
    "check_backends",
    "detect_anomaly",
    "grad",
    "inference_mode",
    "is_anomaly_enabled",
    "gradcheck",
    "gradgradcheck",
    "once_differentiable",
    "record_values",
    "set_detect_anomaly",
    "tape",
]
