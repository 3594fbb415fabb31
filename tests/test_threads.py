"""Threads (docs/guarantees.md): ops from 4 threads at once, thread-local grad mode, concurrent
backward (into independent graphs, and into one shared leaf, whose .grad adds up exactly and may
be read or reset meanwhile), and large kernels that let other Python threads run (they release
the GIL)."""

import sys
import threading
import time
import zlib

import numpy as np
import pytest
import tapegrad as tg
from cases import CASES
from oracle import normal, other, run_case

N_THREADS = 4
# A representative slice of the op cases (every op is in it), both dtypes.
SLICE = [c for i, c in enumerate(CASES) if i % 4 == 0]
SLICE += [c for c in CASES if not {*c.ops} <= {op for s in SLICE for op in s.ops}]


def _rng(case, dtype, backend):
    return np.random.default_rng(zlib.crc32(f"{case.id}/{dtype.name}/{backend}".encode()))


def _raw(case, dtype, backend):
    """Forward output and input grads of `case` (inputs and upstream gradient from a seeded rng)."""
    rng = _rng(case, dtype, backend)
    dts = [dtype] + [other(dtype) if case.mixed else dtype] * (len(case.shapes) - 1)
    samplers = case.sample or (normal(),) * len(case.shapes)
    arrays = [s(rng, shape).astype(dt.np) for s, shape, dt in zip(samplers, case.shapes, dts)]
    xs = [tg.tensor(a, dtype=dt, requires_grad=True, backend=backend) for a, dt in zip(arrays, dts)]
    out = case.fn(*xs)
    g = rng.standard_normal(tuple(out.shape)).astype(out.dtype.np)
    out.backward(tg.tensor(g, dtype=out.dtype, backend=backend))
    return [out.detach().numpy().copy()] + [x.grad.numpy().copy() for x in xs]


def _in_threads(work, n=N_THREADS):
    """Run work(i) in n threads started together; re-raise the first error."""
    errors, results = [], [None] * n
    barrier = threading.Barrier(n)

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as e:  # noqa: BLE001 - re-raised below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    if errors:
        raise errors[0]
    return results


@pytest.mark.parametrize("backend", ["cpp", "numpy"])
def test_op_cases_from_four_threads(backend):
    jobs = [(c, d) for c in SLICE for d in (tg.float32, tg.float16)]
    if backend == "numpy":
        jobs = jobs[::3]  # the reference is pure Python: a third of the slice keeps this quick
    single = {(c.id, d.name): _raw(c, d, backend) for c, d in jobs}

    def work(i):
        got = {}
        order = jobs[i:] + jobs[:i]  # each thread starts elsewhere in the list
        for c, d in order:
            run_case(c, d, backend, _rng(c, d, backend))  # the op test's own assertions
            got[(c.id, d.name)] = _raw(c, d, backend)
        return got

    for got in _in_threads(work):
        assert got.keys() == single.keys()
        for key, arrays in got.items():
            for a, b in zip(arrays, single[key]):
                # the same inputs give bit-identical results whatever else runs meanwhile
                np.testing.assert_array_equal(a, b, err_msg=f"{key} differs under threads")
    assert len(jobs) >= 30


@pytest.mark.parametrize("backend", ["cpp", "numpy"])
def test_no_grad_is_thread_local(backend):
    inside = threading.Event()
    checked = threading.Event()
    seen = {}

    def a_thread():
        with tg.no_grad():
            inside.set()
            checked.wait(30)
            x = tg.ones(3, requires_grad=True, backend=backend)
            seen["a_enabled"] = tg.is_grad_enabled()
            seen["a_recorded"] = (x * 2.0).requires_grad
        seen["a_after"] = tg.is_grad_enabled()

    def b_thread():
        inside.wait(30)
        x = tg.ones(3, requires_grad=True, backend=backend)
        seen["b_enabled"] = tg.is_grad_enabled()
        y = (x * 2.0).sum()
        seen["b_recorded"] = y.requires_grad
        y.backward()
        seen["b_grad"] = x.grad.numpy().tolist()
        with tg.set_grad_enabled(False):  # and B's switch does not leak into A
            checked.set()
            time.sleep(0.05)

    ta, tb = threading.Thread(target=a_thread), threading.Thread(target=b_thread)
    ta.start()
    tb.start()
    ta.join(30)
    tb.join(30)
    assert seen == {
        "a_enabled": False,
        "a_recorded": False,
        "a_after": True,
        "b_enabled": True,
        "b_recorded": True,
        "b_grad": [2.0, 2.0, 2.0],
    }
    assert tg.is_grad_enabled()


def _train_grads(seed, backend, steps=20):
    """Independent graph per thread: a small MLP's loss, backward `steps` times on fresh graphs."""
    rng = np.random.default_rng(seed)
    w1 = tg.tensor(rng.standard_normal((16, 8)) * 0.3, requires_grad=True, backend=backend)
    w2 = tg.tensor(rng.standard_normal((1, 16)) * 0.3, requires_grad=True, backend=backend)
    x = tg.tensor(rng.standard_normal((64, 8)), backend=backend)
    y = tg.tensor(rng.standard_normal((64, 1)), backend=backend)
    for _ in range(steps):
        h = tg.nn.functional.linear(x, w1).tanh()
        loss = tg.nn.functional.mse_loss(tg.nn.functional.linear(h, w2), y)
        loss.backward()
    return w1.grad.numpy().copy(), w2.grad.numpy().copy()


@pytest.mark.parametrize("backend", ["cpp", "numpy"])
def test_independent_graphs_backpropagate_concurrently(backend):
    seeds = [11, 12, 13, 14, 15, 16, 17, 18]
    want = {s: _train_grads(s, backend) for s in seeds}

    def work(i):
        return {s: _train_grads(s, backend) for s in seeds[i::N_THREADS] + seeds}

    for got in _in_threads(work):
        for s, (g1, g2) in got.items():
            np.testing.assert_array_equal(g1, want[s][0])
            np.testing.assert_array_equal(g2, want[s][1])


def test_large_kernels_release_the_gil():
    """A 1024x1024 matmul on the main thread; meanwhile a Python thread counts. If the kernel
    held the GIL the counter could not move while it runs."""
    a = tg.randn(1024, 1024)
    a @ a  # warm up (thread pool, packing buffers)
    count = [0]
    stop = threading.Event()

    def counter():
        while not stop.is_set():
            count[0] += 1

    t = threading.Thread(target=counter)
    t.start()
    try:
        time.sleep(0.05)  # the counter is running
        advanced, elapsed = 0, 0.0
        for _ in range(5):
            before = count[0]
            t0 = time.perf_counter()
            a @ a
            elapsed += time.perf_counter() - t0
            advanced += count[0] - before
    finally:
        stop.set()
        t.join()
    # Holding the GIL, the counter thread would get at most a switch-interval slice (5 ms) at
    # the call's boundaries; released, it counts at ~1e6-1e7/s for the whole call.
    assert advanced > 1000, f"counter advanced {advanced} during {elapsed * 1e3:.0f} ms of matmul"


# ---------------------------------------------------------------- shared leaves
# Backward from several threads into one leaf adds up exactly (each leaf's accumulation is one
# locked step, as PyTorch's AccumulateGrad); assigning or reading .grad meanwhile is safe.

# Leaf size: the add into .grad then takes long enough (run inline, below the core's parallel
# threshold, and without the GIL in both backends) for unlocked accumulations to overlap often.
SHARED = 200_000


@pytest.fixture
def fast_switch():
    """A short GIL switch interval: the threads interleave far more often."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(old)


def _roots(w, k, n):
    """n graphs (w * k).sum(), built up front so that the threads mostly run backward."""
    return [(w * float(k)).sum() for _ in range(n)]


def _shared_leaf_round(backend, calls):
    """N_THREADS threads each run `calls` backward into one leaf; returns its .grad."""
    w = tg.zeros(SHARED, requires_grad=True, backend=backend)
    roots = [_roots(w, i + 1, calls) for i in range(N_THREADS)]

    def work(i):
        for y in roots[i]:
            y.backward()

    _in_threads(work)
    return w.grad.numpy()


@pytest.mark.parametrize("backend", ["cpp", "numpy"])
def test_backward_into_a_shared_leaf_adds_up(backend, fast_switch):
    calls, rounds = (40, 5) if backend == "cpp" else (20, 10)
    want = calls * sum(range(1, N_THREADS + 1))  # thread i adds i + 1 per call: exact sums
    for r in range(rounds):
        got = _shared_leaf_round(backend, calls)
        assert got.dtype == np.float32 and got.shape == (SHARED,)
        assert (got == want).all(), f"round {r}: .grad in [{got.min()}, {got.max()}], want {want}"


def _reset_round(backend, calls):
    """N_THREADS - 1 threads run `calls` backward into one leaf; meanwhile the last thread reads
    .grad and resets it (to None, or to a fresh tensor) in a loop. Returns the leaf and the
    number of reads."""
    w = tg.zeros(SHARED, requires_grad=True, backend=backend)
    roots = [_roots(w, 1, calls) for _ in range(N_THREADS - 1)]
    running = [N_THREADS - 1]

    def work(i):
        if i < N_THREADS - 1:
            for y in roots[i]:
                y.backward()
            running[0] -= 1  # (an int store under the GIL)
            return 0
        n = 0
        while running[0] or n < 100:
            g = w.grad
            if g is not None:
                assert g.shape == (SHARED,) and g.dtype == tg.float32
            del g  # so that the reset frees the gradient (when backward is not using it)
            w.grad = None
            if n % 8 == 7:
                w.grad = tg.zeros(SHARED, backend=backend)
            n += 1
        return n

    return w, _in_threads(work)[-1]


@pytest.mark.parametrize("backend", ["cpp", "numpy"])
def test_grad_reset_and_read_while_backward_runs(backend, fast_switch):
    calls, rounds = (60, 5) if backend == "cpp" else (20, 5)
    for _ in range(rounds):
        w, reads = _reset_round(backend, calls)
        assert reads >= 100
        # Each accumulation was whole: .grad is None or k * ones for some 0 <= k <= all the calls.
        if w.grad is not None:
            a = w.grad.numpy()
            assert (a == a[0]).all() and a[0] == int(a[0]) and 0 <= a[0] <= calls * (N_THREADS - 1)
        # and the leaf accumulates as usual afterwards
        w.grad = None
        (w * 3.0).sum().backward()
        (w * 4.0).sum().backward()
        np.testing.assert_array_equal(w.grad.numpy(), np.full(SHARED, 7.0, np.float32))


@pytest.mark.parametrize("backend", ["cpp", "numpy"])
def test_single_thread_accumulation_unchanged(backend):
    w = tg.tensor([1.0, 2.0, 3.0], requires_grad=True, backend=backend)
    assert w.grad is None
    (w * 2.0).sum().backward()
    first = w.grad
    np.testing.assert_array_equal(first.numpy(), [2.0, 2.0, 2.0])
    v = first._version
    (w * w).sum().backward()  # += 2w, in place: the tensor read before sees it
    np.testing.assert_array_equal(w.grad.numpy(), [4.0, 6.0, 8.0])
    np.testing.assert_array_equal(first.numpy(), [4.0, 6.0, 8.0])
    assert first._version == v + 1
    w.grad = None
    assert w.grad is None
    mine = tg.tensor([10.0, 10.0, 10.0], backend=backend)
    w.grad = mine
    (w * 1.0).sum().backward()  # accumulates into the assigned tensor
    np.testing.assert_array_equal(mine.numpy(), [11.0, 11.0, 11.0])
    np.testing.assert_array_equal(w.grad.numpy(), [11.0, 11.0, 11.0])
    w.backward(tg.tensor([1.0, 1.0, 1.0], backend=backend))  # backward on the leaf itself
    np.testing.assert_array_equal(w.grad.numpy(), [12.0, 12.0, 12.0])
    with pytest.raises(RuntimeError, match="different size"):
        w.grad = tg.zeros(2, backend=backend)
