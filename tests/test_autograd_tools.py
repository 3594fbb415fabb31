"""tg.autograd's tools (tape, backward_steps, gradcheck, check_backends, detect_anomaly,
record_values), tg.viz.draw, the nodes' introspection surface on both backends, and the
examples/see_backward.py script. cpp tests fail (never skip) when the extension is missing."""

import os
import random
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib

import numpy as np
import pytest
import tapegrad as tg
from tapegrad.autograd import _hooks

# Subprocesses import the same tapegrad as this process (installed or in-tree).
_PKG_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(tg.__file__)))
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SVG_NS = "{http://www.w3.org/2000/svg}"


def _neuron(backend, seed=1, record=True):
    rnd = random.Random(seed)
    with tg.use_backend(backend):
        x1, x2 = tg.tensor(7.0), tg.tensor(3.0)
        w1, w2, b = (tg.tensor(rnd.uniform(-0.5, 0.5), requires_grad=True) for _ in range(3))
        ctx = tg.autograd.record_values() if record else _Null()
        with ctx:
            Y = (x1 * w1 + x2 * w2 + b).tanh()
    return Y, {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b}


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def _arr(t):
    return np.array(t._be.to_numpy(t), copy=True)


@pytest.fixture(autouse=True)
def _no_tool_left_behind():
    """Every test leaves no tool active, the backend functions unwrapped, dispatch off."""
    yield
    env_tool = tg.autograd._lockstep.ENV_TOOL[0]  # TAPEGRAD_CHECK=1 keeps one on for good
    if env_tool is not None:
        assert _hooks.active() == (env_tool,)
        return
    assert _hooks.active() == ()
    from tapegrad import _core
    from tapegrad.backends import cpp, numpy_ref

    assert not hasattr(cpp.add, "__wrapped__") and not hasattr(numpy_ref.add, "__wrapped__")
    assert _core.set_python_dispatch(False) is False


# ---------------------------------------------------------------- node introspection


def test_nodes_have_the_same_surface_on_both_backends():
    rng = np.random.default_rng(0)
    xs = rng.uniform(-1, 1, (3, 4)).astype(np.float32)
    ws = rng.uniform(-1, 1, (2, 4)).astype(np.float32)
    got = {}
    for be in ("cpp", "numpy"):
        x = tg.tensor(xs, backend=be, requires_grad=True)
        w = tg.tensor(ws, backend=be, requires_grad=True)
        y = (tg.nn.functional.linear(x, w) * 2.0).tanh().sum()
        fns = []
        fn = y.grad_fn
        while fn is not None:
            fns.append(fn)
            nxt = [f for f, _ in fn.next_functions if f is not None and hasattr(f, "seq")]
            fn = nxt[0] if nxt else None
        got[be] = [
            (f.name(), f.op, tuple(s for s in f.input_shapes if s is not None),
             tuple(d for d in f.input_dtypes if d is not None), tuple(f.output_shape),
             f.output_dtype, f.released)
            for f in fns
        ]  # fmt: skip
        ms = [f for f in fns if f.op == "mul_scalar"][0]
        assert ms.scalar == 2.0
        tanh = [f for f in fns if f.op == "tanh"][0]
        (saved,) = tanh.saved()
        assert saved["shape"] == (3, 2) and saved["dtype"] == "float32" and not saved["freed"]
        g = tg.tensor(np.ones((3, 2), np.float32), backend=be)
        (gi,) = tanh.apply(g)
        np.testing.assert_allclose(_arr(gi), 1 - _arr(saved["value"]) ** 2, rtol=1e-6)
        y.backward()
        assert tanh.released and all(s["freed"] for s in tanh.saved())
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            tanh.apply(g)
    assert got["cpp"] == got["numpy"]


# ---------------------------------------------------------------- tape


def test_tape_lists_the_ops_in_order(backend):
    Y, names = _neuron(backend)
    tp = tg.autograd.tape(Y, names=names)
    assert [e.op for e in tp] == ["mul", "mul", "add", "add", "tanh"]
    assert [e.name for e in tp] == [
        "MulBackward0", "MulBackward0", "AddBackward0", "AddBackward0", "TanhBackward0",
    ]  # fmt: skip
    seqs = [e.seq for e in tp]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    assert [label for label, _ in tp.leaves] == ["w1", "w2", "b"]
    assert tp[0].inputs == [("x1", "float32", ()), ("w1", "float32", ())]
    assert tp[2].inputs[0][0] == f"%{tp[0].seq}"
    # the tanh saved its output; recorded values are shown
    assert tp[4].saved[0]["value"].item() == pytest.approx(Y.item())
    assert tp[0].value == pytest.approx(7.0 * names["w1"].item())
    text = str(tp)
    for piece in ("mul(x1: f32[], w1: f32[])", "TanhBackward0", "saved: [0] f32[] = 7.0",
                  "w1: leaf f32[] =", f"tanh(%{tp[3].seq}: f32[])"):  # fmt: skip
        assert piece in text, (piece, text)


def test_tape_of_larger_tensors_summarises_values(backend):
    with tg.use_backend(backend):
        x = tg.ones(4, 5, requires_grad=True)
        y = (x * 3.0).relu().sum(1).mean()
    text = str(tg.autograd.tape(y))
    assert "<20 values in [1.0, 1.0]>" in text
    assert "mul_scalar(x: f32[4, 5], s=3.0)" in text  # the caller's variable name
    assert "sum(" in text and "mean(" in text
    assert len(tg.autograd.tape(x)) == 0  # a leaf has no tape
    assert "no recorded ops" in str(tg.autograd.tape(x))


# ---------------------------------------------------------------- backward_steps


def _shared_leaf_graph(backend, dtype, seed):
    """Leaves used several times, broadcasting, a matmul, a cast, a reduction."""
    rng = np.random.default_rng(seed)
    a = tg.tensor(rng.uniform(-1, 1, (3, 4)), dtype=dtype, requires_grad=True, backend=backend)
    b = tg.tensor(rng.uniform(-1, 1, (4,)), dtype=dtype, requires_grad=True, backend=backend)
    w = tg.tensor(rng.uniform(-1, 1, (4, 2)), dtype=tg.float32, requires_grad=True,
                  backend=backend)  # fmt: skip

    def f():
        h = (a * b + a).tanh() * a - b / 3.0
        z = (h.float() @ w).sigmoid()
        return (z * z).sum() + (a * a).mean() + b.sum()

    return (a, b, w), f


def test_backward_steps_gives_the_same_grads_as_backward(backend, dtype):
    leaves, f = _shared_leaf_graph(backend, dtype, 1)
    # first round: both start from .grad None; second round: both accumulate into it
    stepwise, whole = [], []
    for rounds in range(2):
        loss = f()
        steps = list(tg.autograd.backward_steps(loss))
        assert steps[-1].op == "accumulate"
        stepwise.append([_arr(t.grad) for t in leaves])
        if rounds == 0:
            for t in leaves:
                t.grad = None
            f().backward()
            whole.append([_arr(t.grad) for t in leaves])
            for t in leaves:
                t.grad = None
            tg.autograd.backward_steps  # noqa: B018
    # redo as: backward twice vs steps twice, from None
    for t in leaves:
        t.grad = None
    f().backward()
    f().backward()
    twice_backward = [_arr(t.grad) for t in leaves]
    for t in leaves:
        t.grad = None
    for _ in range(2):
        for _step in tg.autograd.backward_steps(f()):
            pass
    twice_steps = [_arr(t.grad) for t in leaves]
    for s, w in zip(stepwise[0], whole[0], strict=True):
        np.testing.assert_array_equal(s, w)
    for s, w in zip(twice_steps, twice_backward, strict=True):
        assert s.dtype == w.dtype
        np.testing.assert_array_equal(s, w)


def test_backward_steps_prints_what_flows(backend):
    Y, names = _neuron(backend)
    steps = list(tg.autograd.backward_steps(Y, names=names))
    assert [s.op for s in steps] == ["tanh", "add", "add", "mul", "mul", "accumulate"]
    first = steps[0]
    assert first.grad_in.item() == 1.0
    ((label, g),) = first.grads_out
    assert g.item() == pytest.approx(1 - Y.item() ** 2, rel=1e-6)
    text = str(first)
    assert "TanhBackward0" in text and "grad in: 1.0" in text and label in text
    mul = str(steps[3])
    assert "x2" in mul and "(no gradient)" in mul and "w2" in mul
    acc = str(steps[-1])
    assert "w1.grad +=" in acc and "b.grad +=" in acc
    dY = 1 - Y.item() ** 2
    assert names["w1"].grad.item() == pytest.approx(dY * 7.0, rel=1e-5)
    # the graph is kept: backward still works afterwards
    Y.backward()
    assert names["w1"].grad.item() == pytest.approx(2 * dY * 7.0, rel=1e-5)


def test_backward_steps_stopped_early_changes_nothing(backend):
    Y, names = _neuron(backend)
    it = tg.autograd.backward_steps(Y)
    next(it)
    next(it)
    del it
    assert all(names[k].grad is None for k in ("w1", "w2", "b"))


def test_backward_steps_errors_and_gradient(backend):
    with tg.use_backend(backend):
        x = tg.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3.0
        with pytest.raises(RuntimeError, match="only for scalar outputs"):
            list(tg.autograd.backward_steps(y))
        list(tg.autograd.backward_steps(y, gradient=[1.0, -1.0]))
        assert x.grad.tolist() == [3.0, -3.0]
        with pytest.raises(RuntimeError, match="does not require grad"):
            list(tg.autograd.backward_steps(tg.tensor(1.0)))


# ---------------------------------------------------------------- viz


def _svg_texts(svg):
    root = ET.fromstring(svg)
    assert root.tag == SVG_NS + "svg"
    return [t.text for t in root.iter(SVG_NS + "text")], root


def test_draw_shows_every_op_value_and_grad(backend, tmp_path):
    Y, names = _neuron(backend)
    d = tg.viz.draw(Y, names=names)
    texts, root = _svg_texts(d._repr_svg_())
    for op in ("mul", "add", "tanh"):
        assert op in texts
    assert sum(t == "mul" for t in texts) == 2
    for label in ("w1", "w2", "b", "x1", "x2"):
        assert any(t and t.startswith(label + " ") for t in texts), label
    dY = 1 - Y.item() ** 2
    # drawn before backward: every value shows its gradient (computed, .grad untouched)
    assert f"grad {dY:.4f}" in texts
    assert names["w1"].grad is None
    assert f"data {Y.item():.4f}" in texts and "data 7.0" in texts
    assert d.dot.startswith("digraph") and "tanh" in d.dot and d.to_dot() == d.dot
    p = d.save(tmp_path / "g.svg")
    ET.parse(p)
    d.save(tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text().startswith("digraph")


def test_draw_after_backward_and_without_recording(backend):
    Y, names = _neuron(backend, record=False)
    Y.backward()
    texts, _ = _svg_texts(tg.viz.draw(Y, names=names).svg)
    w1 = names["w1"]
    assert f"grad {w1.grad.item():.4f}" in texts  # the leaves' .grad
    assert f"data {Y.item():.4f}" in texts
    # a bigger graph: shapes shown, values summarised away
    with tg.use_backend(backend):
        x = tg.ones(3, 4, requires_grad=True)
        y = tg.nn.functional.mse_loss(x.relu() @ tg.ones(4, 2), tg.zeros(3, 2))
    texts, _ = _svg_texts(tg.viz.draw(y).svg)
    assert "matmul" in texts and "mse_loss" in texts and "relu" in texts
    assert any("f32[3, 4]" in (t or "") for t in texts)
    # a leaf alone
    texts, _ = _svg_texts(tg.viz.draw(w1).svg)
    assert any("data" in (t or "") for t in texts)


# ---------------------------------------------------------------- gradcheck


def _fns():
    F = tg.nn.functional
    return {
        "mlp": (lambda x, w, b: (F.linear(x, w, b).tanh() * 2.0 - x[:, :2].sigmoid()).sum(0),
                [(3, 4), (2, 4), (2,)]),
        "rational": (lambda x: (x.exp() / (x * x + 1.0)).mean(), [(2, 3)]),
        "broadcast": (lambda a, b: ((a - b) ** 2.0).sum(1) / (1.5 - b.abs().sum()),
                      [(3, 2), (2,)]),
        "matmul_perm": (lambda a, b: (a.T @ b).permute(1, 0).reshape(-1), [(2, 3), (2, 2)]),
        "losses": (lambda a, b: F.mse_loss(a, b) + F.l1_loss(a * 0.5, b, reduction="sum"),
                   [(4,), (4,)]),
    }  # fmt: skip


@pytest.mark.parametrize("name", sorted(_fns()))
def test_gradcheck_passes_on_correct_gradients(backend, dtype, name):
    fn, shapes = _fns()[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))  # str hash() differs per process
    inputs = tuple(
        tg.tensor(rng.uniform(-1, 1, s), dtype=dtype, requires_grad=True, backend=backend)
        for s in shapes
    )
    assert tg.autograd.gradcheck(fn, inputs)


def test_gradcheck_catches_a_wrong_backward_registered_on_the_reference(monkeypatch):
    from tapegrad.backends.numpy_ref import KERNELS

    tanh = KERNELS["tanh"]
    right = tanh.backward

    def wrong(ctx, g):
        (ga,) = right(ctx, g)
        return (ga * 1.05,)  # 5% off: a plausible slip

    monkeypatch.setattr(tanh, "backward", staticmethod(wrong))
    x = tg.tensor([0.3, -0.7, 1.1], requires_grad=True, backend="numpy")
    w = tg.tensor([[0.5, -0.2, 0.1]], requires_grad=True, backend="numpy")
    with pytest.raises(tg.autograd.GradcheckError) as e:
        tg.autograd.gradcheck(lambda x, w: (w @ x).tanh(), (x, w))
    msg = str(e.value)
    assert "input 0" in msg and "element (" in msg and "output 0 element" in msg
    assert "analytic" in msg and "numeric" in msg and "float64 reference" in msg
    assert (
        tg.autograd.gradcheck(lambda x, w: (w @ x).tanh(), (x, w), raise_exception=False) is False
    )
    # the forward is untouched: x alone through an op that is right still passes
    assert tg.autograd.gradcheck(lambda x: (x * x).sum(), (x,))


def test_gradcheck_catches_a_wrong_backward_on_cpp(monkeypatch):
    """A cpp op replaced by a composite with the right value and the wrong gradient."""
    from tapegrad import _core
    from tapegrad.backends import cpp

    def tanh_with_identity_grad(a):
        # value tanh(a), gradient 1 (straight-through): the bug gradcheck must see
        return _core.add(_core.tanh(a).detach(), _core.sub(a, a.detach()))

    monkeypatch.setattr(cpp, "tanh", tanh_with_identity_grad)
    x = tg.tensor([[0.2, -0.4], [0.9, 0.0]], requires_grad=True, backend="cpp")
    assert x.tanh().tolist()[0][0] == pytest.approx(np.tanh(0.2), rel=1e-6)
    with pytest.raises(tg.autograd.GradcheckError, match=r"input 0 \(float32 \(2, 2\), cpp"):
        tg.autograd.gradcheck(lambda x: (x.tanh() * 3.0).sum(), (x,))


def test_gradcheck_reports_the_failing_element(backend):
    with tg.use_backend(backend):
        x = tg.tensor([0.5, 1.5, -2.0], requires_grad=True)

    # relu at a kink is fine; a function whose gradient is wrong only at element 2:
    def fn(x):
        return x * tg.tensor([1.0, 1.0, 0.0]) + (x * tg.tensor([0.0, 0.0, 1.0])).detach() * 3.0

    with pytest.raises(tg.autograd.GradcheckError) as e:
        tg.autograd.gradcheck(fn, (x,))
    msg = str(e.value)
    assert "element (2,)" in msg and "output 0 element (2,)" in msg
    assert "analytic 0" in msg and "numeric  3" in msg


def test_gradcheck_falls_back_for_closures_over_parameters(backend):
    with tg.use_backend(backend):
        tg.manual_seed(0)
        model = tg.nn.Linear(3, 2)
        x = tg.tensor([[0.1, -0.2, 0.3]], requires_grad=True)
    assert tg.autograd.gradcheck(lambda x: model(x).tanh(), (x,))
    with pytest.raises(RuntimeError, match="same backend"):
        tg.autograd.gradcheck(lambda x: model(x).tanh(), (x,), reference="float64")


def test_gradcheck_argument_errors(backend):
    with tg.use_backend(backend):
        x = tg.tensor([1.0])
    with pytest.raises(ValueError, match="at least one input"):
        tg.autograd.gradcheck(lambda x: x * 2.0, (x,))
    with pytest.raises(ValueError, match="reference"):
        tg.autograd.gradcheck(lambda x: x, (x.requires_grad_(),), reference="float128")


# ---------------------------------------------------------------- check_backends


def _program(dtype=tg.float32):
    rng = np.random.default_rng(3)
    x = tg.tensor(rng.uniform(-1, 1, (8, 16)), dtype=dtype, requires_grad=True)
    w = tg.tensor(rng.uniform(-1, 1, (4, 16)), dtype=dtype, requires_grad=True)
    b = tg.tensor(rng.uniform(-1, 1, (4,)), dtype=dtype, requires_grad=True)
    y = tg.nn.functional.linear(x, w, b).relu()
    z = (y.sigmoid() / (y * y + 1.0)).log().exp() ** 2.0
    loss = tg.nn.functional.mse_loss(z, tg.zeros(8, 4, dtype=dtype)) + (x @ w.T).abs().mean()
    loss = loss + (2.0 - x[1:5:2, ::3]).sum() * 0.01 + (1.0 / (b.tanh() + 3.0)).sum()
    loss.backward()
    k = x.detach().clone()
    k += 1.0
    k *= 0.5
    return loss


def test_check_backends_passes_on_agreeing_backends(dtype):
    with tg.use_backend("cpp"), tg.autograd.check_backends() as cb:
        _program(dtype)
    ops = "linear relu sigmoid div log exp pow_scalar mse_loss matmul abs mean slice rsub_scalar"
    for op in ops.split() + ["rdiv_scalar", "tanh", "iop"]:
        assert cb.checked.get(op, 0) >= 1, op
    assert cb.mismatches == []


def test_check_backends_reports_a_forward_difference(monkeypatch):
    from tapegrad.backends.numpy_ref import KERNELS

    sig = KERNELS["sigmoid"]
    right = sig.forward
    monkeypatch.setattr(sig, "forward", staticmethod(lambda ctx, a: right(ctx, a) * 1.001))
    x = tg.tensor([[0.5, -1.0, 2.0]], requires_grad=True, backend="cpp")
    with tg.autograd.check_backends():
        y = x * 2.0  # fine
        with pytest.raises(tg.autograd.BackendMismatchError) as e:
            y.sigmoid()  # the reference now differs
    msg = str(e.value)
    assert "op 'sigmoid' forward" in msg and "f32[1, 3]" in msg and "max error" in msg
    assert "test_autograd_tools.py" in msg and "y.sigmoid()" in msg


def test_check_backends_reports_a_backward_difference(monkeypatch):
    from tapegrad.backends.numpy_ref import KERNELS

    mul = KERNELS["mul"]
    right = mul.backward
    monkeypatch.setattr(
        mul, "backward", staticmethod(lambda ctx, g: (right(ctx, g)[0], -right(ctx, g)[1]))
    )
    a = tg.tensor([1.0, 2.0, 3.0], requires_grad=True, backend="cpp")
    b = tg.tensor([0.5], requires_grad=True, backend="cpp")
    with tg.autograd.check_backends(on_mismatch="warn") as cb:
        with pytest.warns(tg.autograd._lockstep.BackendMismatchWarning, match="input 1"):
            a * b
    (m,) = cb.mismatches
    assert m["op"] == "mul" and m["phase"] == "backward (gradient for input 1)"
    assert "f32[3] , f32[1] -> f32[3]" in m["shapes"]


def test_check_backends_restores_state_after_an_error():
    from tapegrad import _core
    from tapegrad.backends import cpp

    def dispatch_flag():
        flag = _core.set_python_dispatch(True)
        _core.set_python_dispatch(flag)
        return flag

    flag, before = dispatch_flag(), cpp.mul
    with pytest.raises(ZeroDivisionError):
        with tg.autograd.check_backends():
            assert dispatch_flag() is True
            raise ZeroDivisionError
    assert cpp.mul is before and dispatch_flag() is flag


def test_check_backends_env_var():
    code = (
        "import tapegrad as tg, numpy as np\n"
        "from tapegrad.backends.numpy_ref import KERNELS\n"
        "x = tg.tensor([0.5, 1.5], requires_grad=True)\n"
        "(x * x).sum().backward()\n"
        "print('ok', tg.autograd._lockstep.ENV_TOOL[0].checked)\n"
        "f = KERNELS['exp'].forward\n"
        "KERNELS['exp'].forward = staticmethod(lambda ctx, a: f(ctx, a) + 1.0)\n"
        "x.exp()\n"
    )
    env = dict(os.environ, TAPEGRAD_CHECK="1", PYTHONPATH=_PKG_PARENT)
    env.pop("TAPEGRAD_BACKEND", None)
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert "ok {'mul': 1, 'sum': 1}" in r.stdout, r.stdout + r.stderr
    assert r.returncode != 0 and "BackendMismatchError" in r.stderr and "'exp' forward" in r.stderr


# ---------------------------------------------------------------- detect_anomaly


def test_detect_anomaly_forward_names_op_and_line(backend):
    with tg.use_backend(backend):
        x = tg.tensor([1.0, -1.0], requires_grad=True)
        with tg.autograd.detect_anomaly():
            y = x * 2.0
            with pytest.raises(tg.autograd.AnomalyError) as e:
                y.log()
    msg = str(e.value)
    assert "op 'log' (LogBackward0) produced 1 nan" in msg and "from finite inputs" in msg
    assert "test_autograd_tools.py" in msg and "y.log()" in msg
    assert isinstance(e.value, RuntimeError)


def test_detect_anomaly_backward_names_the_node_and_where_it_was_made(backend):
    with tg.use_backend(backend):
        x = tg.tensor([0.0, 4.0], requires_grad=True)
        with tg.autograd.detect_anomaly():
            r = x.sqrt()  # finite forward; d sqrt / dx at 0 is inf
            loss = (r * 3.0).sum()
            with pytest.raises(tg.autograd.AnomalyError) as e:
                loss.backward()
    msg = str(e.value)
    assert "Function 'SqrtBackward0'" in msg and "0th output" in msg and "+inf" in msg
    assert "r = x.sqrt()" in msg
    assert x.grad is None  # nothing accumulated
    loss.backward()  # outside the tool the same backward runs (and gives inf)
    assert np.isinf(x.grad.tolist()[0])


def test_detect_anomaly_counts_float16_overflow_and_underflow(backend):
    with tg.use_backend(backend):
        h = tg.tensor([1e-3, 30000.0, 2.0, 1e-4], dtype=tg.float16, requires_grad=True)
        with tg.autograd.detect_anomaly(check_nan=False) as an:
            big = h * 4.0  # 120000 overflows
            tiny = h * 1e-5  # 1e-8 and 1e-9 underflow to zero
            s = big.float().sum() + tiny.sum()
            s.backward()
    c = an.f16_counts
    assert c["mul_scalar"] == {"calls": 2, "elements": 8, "overflow": 1, "underflow": 2}
    assert "sum" in c and "mul_scalar" in an.report()
    assert len(an.anomalies) >= 1 and "+inf" in an.anomalies[0]
    with pytest.raises(tg.autograd.AnomalyError, match="mul_scalar"):
        with tg.autograd.detect_anomaly():
            h * 4.0


def test_detect_anomaly_is_quiet_on_finite_programs(backend):
    with tg.use_backend(backend), tg.autograd.detect_anomaly() as an:
        _program()
    assert an.anomalies == []


def test_tools_nest(backend):
    with tg.use_backend(backend):
        with tg.autograd.detect_anomaly(), tg.autograd.check_backends() as cb:
            with tg.autograd.record_values():
                Y, _ = _neuron(backend, record=False)
            Y.backward()
    assert (cb.checked.get("tanh", 0) == 1) == (backend == "cpp")


# ---------------------------------------------------------------- the package and the example


def test_import_is_lazy():
    code = (
        "import sys, tapegrad as tg\n"
        "assert 'tapegrad.autograd' not in sys.modules and 'tapegrad.viz' not in sys.modules\n"
        "assert callable(tg.autograd.gradcheck) and callable(tg.viz.draw)\n"
        "assert 'autograd' in dir(tg)\n"
        "print('ok')\n"
    )
    env = dict(os.environ, PYTHONPATH=_PKG_PARENT)
    env.pop("TAPEGRAD_CHECK", None)
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert r.stdout.strip() == "ok", r.stderr


@pytest.mark.parametrize("be", ["cpp", "numpy"])
def test_see_backward_example(be, tmp_path):
    out = tmp_path / "neuron.svg"
    env = dict(os.environ, PYTHONPATH=_PKG_PARENT)
    r = subprocess.run(
        [sys.executable, os.path.join(ROOT, "examples", "see_backward.py"), "--backend", be,
         "--out", str(out)],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    for piece in ("== the tape", "MulBackward0", "step 0: TanhBackward0",
                  "same .grad as Y.backward(): True", "gradcheck against float64 finite "
                  "differences: True"):  # fmt: skip
        assert piece in r.stdout, piece
    texts, root = _svg_texts(out.read_text())  # valid XML, an <svg> root
    tape_ops = ["mul", "mul", "add", "add", "tanh"]
    for op in set(tape_ops):
        assert texts.count(op) == tape_ops.count(op), op
