"""Tape semantics, the same on both backends (docs/design.md, Tensors and the tape, Errors;
docs/backends.md)."""

import gc
import os
import re
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
import tapegrad as tg

SECOND_BACKWARD = "Trying to backward through the graph a second time"
LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation."


def T(data, backend, requires_grad=False, dtype=tg.float32):
    return tg.tensor(data, dtype=dtype, requires_grad=requires_grad, backend=backend)


def values(t):
    return t.detach().numpy().astype(np.float64)


# ------------------------------------------------------------------ accumulation, retain_graph


def test_leaf_grads_accumulate_over_backward_calls(backend):
    x = T([1.0, 2.0, 3.0], backend, requires_grad=True)
    (x * 2.0).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 6.0, 8.0])


def test_grads_from_two_paths_add_up(backend):
    x = T([1.0, -2.0], backend, requires_grad=True)
    (x * x + x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, -3.0])


def test_only_leaves_requiring_grad_get_grad(backend):
    x = T([1.0, 2.0], backend, requires_grad=True)
    w = T([3.0, 4.0], backend)
    h = x * w
    h.sum().backward()
    assert w.grad is None
    with pytest.warns(UserWarning, match="not a leaf Tensor"):  # PyTorch warns too
        assert h.grad is None
    assert x.is_leaf and not h.is_leaf and h.grad_fn is not None
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])


def test_retain_graph_allows_a_second_backward(backend):
    x = T([1.0, 2.0], backend, requires_grad=True)
    w = T([3.0, 5.0], backend, requires_grad=True)
    y = (x * w).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 10.0])
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 4.0])


def test_second_backward_through_saved_tensors_raises(backend):
    x = T([1.0, 2.0], backend, requires_grad=True)
    w = T([3.0, 5.0], backend, requires_grad=True)
    y = (x * w).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=SECOND_BACKWARD):
        y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 5.0])  # unchanged by the failed call


def test_second_backward_without_saved_tensors_is_allowed(backend):
    # PyTorch raises only when it reaches a node whose saved tensors were freed (docs/backends.md)
    x = T([1.0, 2.0], backend, requires_grad=True)
    y = (x + 2.0).sum()
    y.backward()
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_non_scalar_backward_needs_a_gradient(backend):
    x = T([1.0, 2.0], backend, requires_grad=True)
    y = x * 2.0
    with pytest.raises(
        RuntimeError, match="grad can be implicitly created only for scalar outputs"
    ):
        y.backward()
    y.backward(T([1.0, 10.0], backend))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 20.0])


def test_one_element_backward_needs_no_gradient(backend):
    x = T([3.0], backend, requires_grad=True)
    (x * x).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6.0])


# ------------------------------------------------------------------ grad mode


def test_no_grad_stops_recording(backend):
    x = T([1.0], backend, requires_grad=True)
    with tg.no_grad():
        assert not tg.is_grad_enabled()
        y = x * 2.0
    assert tg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf


def test_no_grad_as_decorator(backend):
    x = T([1.0], backend, requires_grad=True)

    @tg.no_grad()
    def f(t):
        assert not tg.is_grad_enabled()
        return t * 2.0

    y = f(x)
    assert not y.requires_grad and tg.is_grad_enabled()
    assert f.__name__ == "f"


def test_enable_grad_inside_no_grad(backend):
    x = T([1.0], backend, requires_grad=True)
    with tg.no_grad():
        with tg.enable_grad():
            y = x * 2.0
        z = x * 2.0
    assert y.requires_grad and not z.requires_grad


def test_set_grad_enabled(backend):
    x = T([1.0], backend, requires_grad=True)
    with tg.set_grad_enabled(False):
        assert not (x * 2.0).requires_grad
    assert tg.is_grad_enabled()
    tg.set_grad_enabled(False)
    try:
        assert not tg.is_grad_enabled() and not (x * 2.0).requires_grad
    finally:
        tg.set_grad_enabled(True)
    assert (x * 2.0).requires_grad


def _in_thread(fn):
    out = {}

    def run():
        try:
            out["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - re-raised in the main thread
            out["error"] = e

    th = threading.Thread(target=run)
    th.start()
    th.join(30)
    if "error" in out:
        raise out["error"]
    return out["value"]


def test_grad_mode_is_thread_local(backend):
    x = T([1.0], backend, requires_grad=True)
    # a thread inside no_grad does not switch it off for the main thread
    entered, checked = threading.Event(), threading.Event()
    seen = {}

    def worker():
        with tg.no_grad():
            entered.set()
            checked.wait(10)
            seen["worker"] = (tg.is_grad_enabled(), (x * 2.0).requires_grad)

    th = threading.Thread(target=worker)
    th.start()
    assert entered.wait(10)
    seen["main"] = (tg.is_grad_enabled(), (x * 2.0).requires_grad)
    checked.set()
    th.join(10)
    assert seen == {"main": (True, True), "worker": (False, False)}

    # and the main thread inside no_grad does not switch it off for a new thread
    with tg.no_grad():
        assert _in_thread(lambda: (tg.is_grad_enabled(), (x * 2.0).requires_grad)) == (True, True)
        assert not tg.is_grad_enabled()

    def off_in_thread():
        tg.set_grad_enabled(False)
        return tg.is_grad_enabled()

    assert _in_thread(off_in_thread) is False
    assert tg.is_grad_enabled()


# ------------------------------------------------------------------ in place


def test_inplace_change_of_a_saved_tensor_raises(backend):
    x = T([1.0, 2.0, 3.0], backend, requires_grad=True)
    w = T([4.0, 5.0, 6.0], backend)
    y = (x * w).sum()  # saves w
    w += 1.0
    assert w._version == 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_inplace_change_message(backend):
    x = T([1.0, 2.0, 3.0], backend, requires_grad=True)
    w = T([4.0, 5.0, 6.0], backend)
    y = (x * w).sum()
    w.mul_(2.0)
    msg = (
        "one of the variables needed for gradient computation has been modified by an inplace "
        "operation: [float32 (3,)] is at version 1; expected version 0 instead."
    )
    with pytest.raises(RuntimeError, match=re.escape(msg)):
        y.backward()


def test_inplace_change_of_a_saved_non_leaf_raises(backend):
    x = T([1.0, 2.0], backend, requires_grad=True)
    h = x * 2.0
    y = (h * h).sum()  # saves h
    h += 1.0  # allowed on a non-leaf: recorded, h takes over the new history
    assert h.grad_fn.name() == "AddBackward0"
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_inplace_on_a_non_leaf_is_recorded(backend):
    x = T([1.0, 2.0], backend, requires_grad=True)
    w = T([3.0, 4.0], backend, requires_grad=True)
    h = x * 2.0
    h *= 3.0
    h += w
    assert h.grad_fn.name() == "AddBackward0" and h._version == 2
    h.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0])
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(values(h), [9.0, 16.0])


INPLACE = {
    "+=": lambda x, o: x.__iadd__(1.0),
    "-=": lambda x, o: x.__isub__(o),
    "*=": lambda x, o: x.__imul__(2.0),
    "/=": lambda x, o: x.__itruediv__(o),
    "add_": lambda x, o: x.add_(o),
    "sub_": lambda x, o: x.sub_(1.0),
    "mul_": lambda x, o: x.mul_(o),
    "div_": lambda x, o: x.div_(2.0),
    "zero_": lambda x, o: x.zero_(),
    "fill_": lambda x, o: x.fill_(2.0),
    "copy_": lambda x, o: x.copy_(o),
}


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_on_a_leaf_requiring_grad_raises(backend, name):
    x = T([1.0, 2.0, 3.0], backend, requires_grad=True)
    o = T([1.0, 2.0, 4.0], backend)
    with pytest.raises(RuntimeError, match=re.escape(LEAF_INPLACE)):
        INPLACE[name](x, o)
    np.testing.assert_array_equal(values(x), [1.0, 2.0, 3.0])
    with tg.no_grad():
        assert INPLACE[name](x, o) is x  # allowed under no_grad, returns the same object
    assert x.is_leaf and x.requires_grad and x._version == 1


def test_sgd_update_under_no_grad(backend, dtype):
    start = np.array([1.0, -2.0, 3.5, 0.25], dtype=dtype.np)
    x = T(start, backend, requires_grad=True, dtype=dtype)
    (x * x).sum().backward()
    g = x.grad.numpy().copy()
    obj = x
    with tg.no_grad():
        x -= x.grad * 0.01
    assert x is obj and x.is_leaf and x.requires_grad and x.grad_fn is None
    # contract: each op computes in float32 and rounds once to the storage dtype
    step = (g.astype(np.float32) * np.float32(0.01)).astype(dtype.np)
    want = (start.astype(np.float32) - step.astype(np.float32)).astype(dtype.np)
    np.testing.assert_array_equal(x.detach().numpy(), want)


# ------------------------------------------------------------------ memory and deep graphs


def _rss_bytes():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0  # not Linux: the object count below still checks


def test_abandoned_graphs_are_freed(backend):
    """10k graphs built and dropped without backward: nothing may accumulate (not even cycles:
    the design frees a graph when its tensors die, so this runs with the cyclic GC off)."""
    data = np.linspace(-1, 1, 1024, dtype=np.float32)  # 4 KiB; a leak would be >= 120 MB

    def build():
        x = T(data, backend, requires_grad=True)
        return ((x * 1.5).exp() * x).tanh().sum()

    for _ in range(100):
        build()
    gc.collect()
    gc.disable()
    try:
        rss, objs = _rss_bytes(), len(gc.get_objects())
        for _ in range(10_000):
            build()
        rss_growth = _rss_bytes() - rss
        obj_growth = len(gc.get_objects()) - objs
    finally:
        gc.enable()
    assert obj_growth < 1000, f"{obj_growth} Python objects left behind by 10k dropped graphs"
    assert rss_growth < 24 << 20, f"RSS grew {rss_growth / 2**20:.0f} MiB over 10k dropped graphs"


CHAIN = textwrap.dedent(
    """
    import sys
    import numpy as np
    import tapegrad as tg

    backend, n = sys.argv[1], 100_000
    x = tg.tensor([1.0, 2.0], requires_grad=True, backend=backend)
    y = x
    for _ in range(n):
        y = y * 1.0000001
    y.sum().backward()
    want = float(np.float32(1.0000001)) ** n
    assert np.allclose(x.grad.numpy(), want, rtol=1e-2), (x.grad.numpy(), want)
    del y  # a 100k-node chain after backward
    y = x
    for _ in range(n):
        y = y + 0.0
    del y  # a 100k-node chain nobody ran backward on
    print("ok")
    """
)


def test_chain_of_100k_ops(backend):
    """Backward through, and freeing of, a 100 000-op chain: no RecursionError, no crash.

    Runs in a subprocess so that a stack overflow in a destructor fails this test instead of
    killing the whole session.
    """
    pkg_root = os.path.dirname(os.path.dirname(os.path.abspath(tg.__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([pkg_root, env.get("PYTHONPATH", "")])
    r = subprocess.run(
        [sys.executable, "-c", CHAIN, backend],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    detail = f"rc={r.returncode}\nstdout: {r.stdout[-2000:]}\nstderr: {r.stderr[-4000:]}"
    assert r.returncode == 0 and r.stdout.strip() == "ok", detail
    assert "RecursionError" not in r.stderr and "Exception ignored" not in r.stderr, detail


# ------------------------------------------------------------------ sharing, mixing, conversion


def test_mixing_backends_raises():
    from oracle import linear, loss

    a = T([1.0, 2.0], "cpp", requires_grad=True)
    b = T([3.0, 4.0], "numpy", requires_grad=True)
    a2, b2 = a.view(1, 2), b.view(1, 2)
    for f in (
        lambda: linear(a2, b2),
        lambda: linear(b2, a2),
        lambda: linear(a2, a2, b[:1]),
        lambda: loss("mse_loss", a, b, "mean"),
        lambda: loss("l1_loss", b, a, "sum"),
        lambda: a + b,
        lambda: b + a,
        lambda: a * b,
        lambda: b - a,
        lambda: a / b,
        lambda: a @ b,
        lambda: b @ a,
        lambda: a.detach().add_(b),
        lambda: b.detach().copy_(a),
        lambda: (a * 2.0).backward(T([1.0, 1.0], "numpy")),
    ):
        with pytest.raises(RuntimeError):
            f()


def test_conversion_of_a_tensor_requiring_grad_raises(backend):
    x = T([1.0, 2.0], backend, requires_grad=True)
    with pytest.raises(RuntimeError, match="Can't call numpy"):
        x.numpy()
    with pytest.raises(RuntimeError, match="Can't call numpy"):
        (x * 2.0).numpy()
    np.testing.assert_array_equal(x.detach().numpy(), [1.0, 2.0])


def test_detach_shares_storage_and_version(backend):
    x = T([1.0, 2.0], backend, requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.is_leaf
    d += 1.0
    np.testing.assert_array_equal(values(x), [2.0, 3.0])
    assert x._version == d._version == 1  # detach shares the version counter


def test_data_shares_storage_without_version(backend):
    x = T([1.0, 2.0], backend, requires_grad=True)
    d = x.data
    assert not d.requires_grad
    d.mul_(3.0)
    x.data.add_(1.0)
    np.testing.assert_array_equal(values(x), [4.0, 7.0])
    assert x._version == 0  # in-place changes through .data are not seen by the version counter
    y = (x * x).sum()
    x.data.mul_(0.5)  # ... so they do not trip the saved-tensor check
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 7.0])


def test_data_assignment_replaces_values_shape_and_dtype(backend):
    x = T([1.0, 2.0], backend, requires_grad=True)
    x.data = T([[1.0, 2.0, 3.0]], backend, dtype=tg.float16)
    assert tuple(x.shape) == (1, 3) and x.dtype is tg.float16
    assert x.is_leaf and x.requires_grad
    np.testing.assert_array_equal(values(x), [[1.0, 2.0, 3.0]])


def test_requires_grad_is_settable_only_on_leaves(backend):
    x = T([1.0], backend)
    assert x.requires_grad_() is x and x.requires_grad
    y = x * 2.0
    with pytest.raises(RuntimeError):
        y.requires_grad = False
