"""tapegrad: a small, fast, honest tape-based autograd library with a C++ core."""

from . import _backend, _oplist, backends, cuda, distributed, nn, optim, utils
from ._backend import get_backend, set_backend, use_backend
from ._compile import compile  # noqa: A004
from ._device import device
from ._dlpack import from_dlpack, to_dlpack
from ._dtype import (  # noqa: A004 - PyTorch's names
    bool,
    double,
    dtype,
    float,
    float16,
    float32,
    float64,
    half,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    short,
    uint8,
)
from ._functions import (
    all,
    allclose,
    any,
    eq,
    equal,
    ge,
    get_default_dtype,
    greater,
    greater_equal,
    gt,
    isclose,
    isfinite,
    isinf,
    isnan,
    le,
    less,
    less_equal,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    masked_fill,
    ne,
    nonzero,
    not_equal,
    promote_types,
    result_type,
    set_default_dtype,
    where,
)
from ._grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from ._ops_data import (
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
    bernoulli,
    empty,
    empty_like,
    eye,
    full_like,
    multinomial,
    normal,
    rand_like,
    randint_like,
    randn_like,
)
from ._ops_divmod import floor_divide, remainder
from ._ops_ewise import (  # noqa: A004 - PyTorch's names
    clamp,
    clamp_max,
    clamp_min,
    clip,
    maximum,
    minimum,
    square,
)
from ._ops_nnloss import log_softmax, softmax  # noqa: E402

# cat/stack, repeat/tile, flip/roll, gather/scatter, index_select/masked_select, the matmul family
from ._ops_shape import (  # noqa: E402, F401
    cat,
    concat,
    concatenate,
    flip,
    fliplr,
    flipud,
    gather,
    hstack,
    index_select,
    masked_select,
    roll,
    row_stack,
    scatter,
    scatter_add,
    stack,
    tile,
    vstack,
)
from ._ops_shape_mm import addmm, bmm, dot, ger, mm, mv, outer  # noqa: E402, F401
from ._random import (
    Generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    rand,
    randint,
    randn,
    randperm,
    seed,
    set_rng_state,
)
from ._tensor_args import _Size as Size
from .serialization import load, save
from .tensor import (
    Tensor,
    arange,
    as_tensor,
    from_numpy,
    full,
    is_tensor,
    linspace,
    ones,
    ones_like,
    tensor,
    zeros,
    zeros_like,
)

# isort: split
# The reductions (_ops_reduce.py); sum and mean accept PyTorch's axis=/keepdims= aliases.
from . import return_types
from ._ops_print import set_printoptions
from ._ops_reduce import (  # noqa: A004
    amax,
    amin,
    argmax,
    argmin,
    cumsum,
    logsumexp,
    max,
    mean,
    min,
    std,
    sum,
    var,
)

# isort: split
# prod (_ops_prodnorm.py).
from ._ops_prodnorm import prod  # noqa: E402

# isort: split
# addmv, baddbmm, addbmm (_ops_mm2.py).
# norm, linalg.vector_norm and linalg.norm (_ops_norm.py, linalg.py).
from . import linalg  # noqa: E402
from ._ops_mm2 import addbmm, addmv, baddbmm  # noqa: E402
from ._ops_norm import norm  # noqa: E402

# isort: split
# ewise2 (_ops_ewise2.py).
from ._ops_ewise2 import float_power, pow, round, std_mean, var_mean  # noqa: E402

__version__ = "0.1.0"

_LAZY = ("autograd", "viz")  # imported on first use: `import tapegrad` stays fast


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


def _need_tensor(fn, *xs):
    """PyTorch's TypeError for a function given no tensor where it needs one."""
    for x in xs:
        if not isinstance(x, Tensor):
            raise TypeError(f"{fn}(): argument 'input' must be Tensor, not {type(x).__name__}")


def _unary(name):
    def f(input):
        _need_tensor(name, input)
        return getattr(input, name)()

    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"The {_oplist.UNARY_DOC[name]} of each element of input, as input.{name}()."
    return f


# The unary ops of the op list (python/tapegrad/_oplist.py) are functions too.
for _name in _oplist.UNARY:
    if _name != "round":  # _ops_ewise2's takes decimals=
        globals()[_name] = _unary(_name)
del _name


def matmul(a, b):
    """The matrix product `a @ b`, with PyTorch's rules: 1-D operands are vectors and batch dims
    broadcast."""
    _need_tensor("matmul", a)
    return a @ b


def add(a, b):
    """a + b elementwise, with broadcasting and type promotion; `a` must be a tensor. Unlike
    `torch.add` it takes no `alpha=` or `out=` (`Tensor.add` takes alpha)."""
    _need_tensor("add", a)
    return a + b


def mul(a, b):
    """a * b elementwise, with broadcasting and type promotion; `a` must be a tensor. Unlike
    `torch.mul` it takes no `out=`."""
    _need_tensor("mul", a)
    return a * b


def reshape(input, shape):
    """`input`'s elements in a new shape (one size may be -1): a view when the strides allow, else a
    copy."""
    _need_tensor("reshape", input)
    return input.reshape(shape)


def transpose(input, dim0, dim1):
    """A view of `input` with dims `dim0` and `dim1` swapped."""
    _need_tensor("transpose", input)
    return input.transpose(dim0, dim1)


def permute(input, dims):
    """A view of `input` with its dims reordered, as `input.permute(dims)`."""
    _need_tensor("permute", input)
    return input.permute(dims)


def _method_function(name):
    def f(input, *args, **kwargs):
        _need_tensor(name, input)
        return getattr(input, name)(*args, **kwargs)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"tapegrad.{name}(input, ...): input.{name}(...) (PyTorch's torch.{name})."
    return f


# The view and shape methods that PyTorch also has as functions.
_VIEW_FUNCTIONS = ("flatten unflatten squeeze unsqueeze narrow select split chunk unbind t "
                   "swapaxes swapdims as_strided")  # fmt: skip
for _name in _VIEW_FUNCTIONS.split():
    globals()[_name] = _method_function(_name)
del _name


def set_num_threads(n):
    """Set how many threads the backend's kernels use (a positive int)."""
    import builtins

    if not isinstance(n, builtins.int) or n < 1:
        raise ValueError(f"set_num_threads expects a positive integer, got {n!r}")
    _backend.current().set_num_threads(n)


def get_num_threads():
    """How many threads the backend's kernels use."""
    return _backend.current().get_num_threads()


def _env_tools():
    """TAPEGRAD_CHECK=1 (raise) or =warn: lockstep backend checking for the whole process."""
    import os

    mode = os.environ.get("TAPEGRAD_CHECK", "").strip().lower()
    if mode and mode not in ("0", "false", "no", "off"):
        from .autograd import _lockstep

        _lockstep.enable_from_env(mode)


_env_tools()
