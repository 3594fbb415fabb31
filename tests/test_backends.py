"""The backend protocol of docs/backends.md: registry, choice, conversion, names, shared errors."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tapegrad as tg
from conftest import BACKENDS, DOC_OPS
from tapegrad import _backend


def test_cpp_extension_present():
    import tapegrad._core  # noqa: F401 - CI requires this to fail, not skip, when it did not build


def test_both_backends_list_the_same_ops():
    cpp, ref = (_backend.load(name) for name in BACKENDS)
    assert sorted(cpp.OPS) == sorted(ref.OPS)


def test_doc_ops_list_matches_docs_backends_md():
    doc = (Path(__file__).resolve().parent.parent / "docs" / "backends.md").read_text()
    table = doc.split("## Ops", 1)[1].split("\n\n", 2)[1]  # the table after the heading
    rows = [line.split("|")[1] for line in table.splitlines()[2:] if line.startswith("|")]
    names = {name.strip() for row in rows for name in row.split(",")}
    assert names == DOC_OPS


def test_ops_registry_matches_the_documented_table(backend):
    ops = _backend.load(backend).OPS
    assert isinstance(ops, tuple) and len(set(ops)) == len(ops)
    assert set(ops) == DOC_OPS, f"extra {set(ops) - DOC_OPS}, missing {DOC_OPS - set(ops)}"


PROTOCOL = (
    "from_numpy to_numpy item detach backward iop fill_ copy_ set_num_threads get_num_threads"
)


def test_backend_module_provides_the_protocol(backend):
    be = _backend.load(backend)
    assert be.name == backend
    assert issubclass(be.Tensor, tg.Tensor) and be.Tensor._be is be
    for fn in PROTOCOL.split() + list(be.OPS):
        assert callable(getattr(be, fn, None)), f"{backend} backend lacks {fn}"
    be.set_num_threads(1)
    assert be.get_num_threads() == 1


def test_array_in_is_copied_array_out_is_shared(backend):
    be = _backend.load(backend)
    for np_dtype, dt in [(np.float32, tg.float32), (np.float16, tg.float16)]:
        arr = np.arange(6, dtype=np_dtype).reshape(2, 3)
        t = be.from_numpy(arr, False)
        arr[0, 0] = 42
        assert type(t) is be.Tensor and t._be is be
        assert t.dtype is dt and tuple(t.shape) == (2, 3) and t.ndim == 2
        out = be.to_numpy(t)
        assert out.dtype == np_dtype and out[0, 0] == 0
        assert np.shares_memory(out, be.to_numpy(t))
        assert be.item(be.from_numpy(np.array([2.5], np_dtype), False)) == 2.5


def test_tensor_factory_dtypes(backend):
    # PyTorch's inference: Python ints int64, floats the default dtype; arrays keep theirs
    assert tg.tensor([1, 2], backend=backend).dtype is tg.int64
    assert tg.tensor([1.0, 2], backend=backend).dtype is tg.float32
    assert tg.tensor(np.ones(2, np.float16), backend=backend).dtype is tg.float16
    assert tg.tensor(np.ones(2, np.float64), backend=backend).dtype is tg.float64
    assert tg.tensor(3.0, dtype=tg.half, backend=backend).shape == ()
    assert (tg.float32.code, tg.float16.code) == (0, 1)


def test_use_backend_picks_the_backend_of_new_tensors(backend):
    with tg.use_backend(backend):
        assert tg.get_backend() == backend
        for t in (tg.zeros(2), tg.ones(1, 2), tg.tensor([1.0]), tg.randn(3), tg.arange(3)):
            assert t._be.name == backend and t.backend == backend


def test_unknown_backend_is_a_value_error():
    with pytest.raises(ValueError, match="unknown backend"):
        tg.tensor([1.0], backend="jax")


def _run(code, **env):
    pkg_root = os.path.dirname(os.path.dirname(os.path.abspath(tg.__file__)))
    full = dict(os.environ, **env)
    full["PYTHONPATH"] = os.pathsep.join([pkg_root, full.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=full, timeout=60
    )


def test_backend_from_environment_variable(backend):
    r = _run(
        "import tapegrad as tg; print(tg.get_backend(), tg.zeros(1).backend)",
        TAPEGRAD_BACKEND=backend,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split() == [backend, backend]


def test_default_backend_is_cpp():
    code = "import os; os.environ.pop('TAPEGRAD_BACKEND', None); import tapegrad as tg\n"
    r = _run(code + "print(tg.get_backend())")
    assert r.returncode == 0 and r.stdout.strip() == "cpp", r.stderr[-2000:]


# ------------------------------------------------------------------ grad_fn names


def _x(backend, shape=(2, 3)):
    rng = np.random.default_rng(0)
    return tg.tensor(
        rng.uniform(0.5, 2, shape).astype(np.float32), requires_grad=True, backend=backend
    )


# (PyTorch's grad_fn name, an expression that makes it): scalar operands are PyTorch's
# wrapped numbers, so `x + 1.0` is AddBackward0 and `1.0 / x` a MulBackward0 (of a reciprocal).
GRAD_FN = [
    ("AddBackward0", lambda x: x + x),
    ("SubBackward0", lambda x: x - x),
    ("MulBackward0", lambda x: x * x),
    ("DivBackward0", lambda x: x / x),
    ("AddBackward0", lambda x: x + 1.0),
    ("SubBackward0", lambda x: x - 1.0),
    ("MulBackward0", lambda x: x * 2.0),
    ("DivBackward0", lambda x: x / 2.0),
    ("RsubBackward1", lambda x: 1.0 - x),
    ("MulBackward0", lambda x: 1.0 / x),
    ("PowBackward0", lambda x: x**2),
    ("PowBackward2", lambda x: 2**x),
    ("NegBackward0", lambda x: -x),
    ("AbsBackward0", lambda x: x.abs()),
    ("ExpBackward0", lambda x: x.exp()),
    ("LogBackward0", lambda x: x.log()),
    ("TanhBackward0", lambda x: x.tanh()),
    ("ReluBackward0", lambda x: x.relu()),
    ("SigmoidBackward0", lambda x: x.sigmoid()),
    ("MmBackward0", lambda x: x @ x.T),
    ("MvBackward0", lambda x: x @ x[0]),
    ("DotBackward0", lambda x: x[0] @ x[0]),
    ("BmmBackward0", lambda x: x[None] @ x.T[None]),
    ("SumBackward0", lambda x: x.sum()),
    ("SumBackward1", lambda x: x.sum(1)),
    ("MeanBackward0", lambda x: x.mean()),
    ("MeanBackward1", lambda x: x.mean(0)),
    ("ViewBackward0", lambda x: x.view(-1)),
    ("PermuteBackward0", lambda x: x.T),
    ("SliceBackward0", lambda x: x[:, 1:]),
    ("ToCopyBackward0", lambda x: x.half()),
]


@pytest.mark.parametrize("name,make", GRAD_FN, ids=[f"{n}-{i}" for i, (n, _) in enumerate(GRAD_FN)])
def test_grad_fn_names(backend, name, make):
    out = make(_x(backend))
    assert out.grad_fn.name() == name
    assert name in repr(out.grad_fn)
    assert f"grad_fn=<{name}>" in repr(out)


def test_grad_fn_names_of_fused_ops(backend):
    from oracle import linear, loss

    x, w, b = _x(backend, (4, 3)), _x(backend, (2, 3)), _x(backend, (2,))
    assert linear(x, w, b).grad_fn.name() == "AddmmBackward0"
    assert linear(x, w).grad_fn.name() == "MmBackward0"
    assert loss("mse_loss", x, x * 2.0, "mean").grad_fn.name() == "MseLossBackward0"
    assert loss("l1_loss", x, x * 2.0, "none").grad_fn.name() == "AbsBackward0"


# ------------------------------------------------------------------ shared error messages


def test_broadcast_error_message(backend):
    a = tg.tensor(np.zeros((2, 3), np.float32), backend=backend)
    b = tg.tensor(np.zeros((2, 4), np.float32), backend=backend)
    msg = (
        "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1"
    )
    with pytest.raises(RuntimeError, match=re.escape(msg)):
        a + b


def test_matmul_error_messages(backend):
    def z(*s):
        return tg.tensor(np.zeros(s, np.float32), backend=backend)

    with pytest.raises(
        RuntimeError, match=re.escape("mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)")
    ):
        z(2, 3) @ z(4, 5)
    with pytest.raises(
        RuntimeError, match=re.escape("matmul: shapes (2, 3, 4) and (5, 6) cannot be multiplied")
    ):
        z(2, 3, 4) @ z(5, 6)


def test_loss_shape_error_message(backend):
    # the backend op itself (nn.functional checks shapes before it gets there)
    a = tg.tensor(np.zeros(3, np.float32), backend=backend)
    b = tg.tensor(np.zeros(4, np.float32), backend=backend)
    for name in ("mse_loss", "l1_loss"):
        msg = f"{name}: input shape (3,) and target shape (4,) must match"
        with pytest.raises(RuntimeError, match=re.escape(msg)):
            getattr(a._be, name)(a, b, "mean")
