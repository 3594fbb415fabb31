"""The measurements behind benchmarks/run.py.

Each group function takes (quick, peer) and returns rows

    {"figure": str, "unit": str, "better": "lower"|"higher", "values": {peer: number}}

with the value of that one peer: "tapegrad" (cpp backend), "tapegrad-numpy" (our reference
backend), "numpy" (plain NumPy, by hand) or "torch" (PyTorch, when installed). run.py measures
each peer in a process of its own, so no thread pool spins against another's, and merges the rows.
Timings are the best of several repeats: the machines are shared and noisy, and the minimum is the
least disturbed run.
"""

import os
import subprocess
import sys
import time

import numpy as np


def lib(peer):
    if peer == "torch":
        import torch

        return torch
    import tapegrad

    return tapegrad


def best_time(fn, number, repeat=5):
    """Best per-call seconds of `fn` over `repeat` runs of `number` calls."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def timed(fn, budget=0.05, repeat=5):
    """Best per-call seconds, with a call count that makes one repeat last about `budget` s."""
    t0 = time.perf_counter()
    fn()
    dt = max(time.perf_counter() - t0, 1e-7)
    return best_time(fn, max(1, int(budget / dt)), repeat)


def row(figure, unit, better, peer, value, target=None):
    r = {"figure": figure, "unit": unit, "better": better, "values": {peer: value}}
    if target:
        r["target"] = target
    return r


def _tensor(peer, arr, requires_grad=False):
    if peer == "torch":
        import torch

        return torch.tensor(arr, requires_grad=requires_grad)
    import tapegrad as tg

    backend = "numpy" if peer == "tapegrad-numpy" else "cpp"
    return tg.tensor(arr, requires_grad=requires_grad, backend=backend)


# ---------------------------------------------------------------- per-op overhead
def overhead(quick, peer):
    if peer == "numpy":
        return []
    a = _tensor(peer, np.array([2.0], np.float32), True)
    b = _tensor(peer, np.array([3.0], np.float32), True)
    rows = [
        row("1-element a + b with grad", "µs", "lower", peer, timed(lambda: a + b) * 1e6, "≤ 1 µs")
    ]
    # The fixed cost of a small backward: a 4-node graph built with and without backward().
    a = _tensor(peer, np.array([1.5, 2.0], np.float32), True)
    b = _tensor(peer, np.array([0.5, -1.0], np.float32), True)

    def graph():
        return ((a * b + a) * b).sum()

    build = timed(graph)
    both = timed(lambda: graph().backward())
    rows.append(
        row(
            "small backward() (4 nodes)",
            "µs",
            "lower",
            peer,
            max(both - build, 0.0) * 1e6,
            "≤ 5 µs",
        )
    )
    return rows


# ---------------------------------------------------------------- GEMM
def gemm(quick, peer):
    if peer == "tapegrad-numpy":
        return []
    sizes = [64, 256] if quick else [64, 128, 256, 512, 1024, 2048]
    shapes = [(n, n, n) for n in sizes]
    if not quick:
        shapes += [(64, 784, 256), (64, 256, 10), (256, 784, 1024), (256, 1024, 1024)]
    rows = []
    rng = np.random.default_rng(0)
    for dtype in ("float32", "float16"):
        for m, k, n in shapes:
            flops = 2.0 * m * n * k
            # NumPy and PyTorch run float16 matmul at ~1 GFLOP/s: keep their big sizes short.
            if dtype == "float16" and peer != "tapegrad" and flops > 2 * 512**3:
                continue
            a = rng.standard_normal((m, k)).astype(dtype)
            b = rng.standard_normal((k, n)).astype(dtype)
            if peer == "numpy":
                fn = lambda: a @ b  # noqa: E731
            elif peer == "torch":
                import torch

                pa, pb = torch.from_numpy(a), torch.from_numpy(b)
                fn = lambda: pa @ pb  # noqa: E731
            else:
                import tapegrad as tg

                ta, tb = tg.tensor(a), tg.tensor(b)
                fn = lambda: ta @ tb  # noqa: E731
            budget = 0.02 if quick else 0.1
            value = flops / timed(fn, budget, 3) / 1e9
            rows.append(row(f"GEMM {dtype} {m}x{k} @ {k}x{n}", "GFLOP/s", "higher", peer, value))
    if peer == "tapegrad" and not quick:
        rows += _gemm_beside_openblas()
    return rows


def _gemm_beside_openblas():
    """Our GEMM and NumPy's, called alternately in one process: each call starts right after the
    other library's (OpenBLAS's threads may still be spinning after a NumPy matmul, and a spinning
    pool next to ours is what docs/design.md, Speed, warns about). Medians of the alternating
    calls, so the figure is what a program that mixes the two gets."""
    import tapegrad as tg

    rows = []
    rng = np.random.default_rng(1)
    for n in (512, 1024):
        a = rng.standard_normal((n, n)).astype(np.float32)
        b = rng.standard_normal((n, n)).astype(np.float32)
        ta, tb = tg.tensor(a), tg.tensor(b)
        ours, theirs = [], []
        for _ in range(30 if n == 512 else 15):
            t0 = time.perf_counter()
            a @ b
            t1 = time.perf_counter()
            ta @ tb
            t2 = time.perf_counter()
            theirs.append(t1 - t0)
            ours.append(t2 - t1)
        gflop = 2.0 * n**3 / 1e9
        r = row(f"GEMM float32 {n}³ interleaved with NumPy's", "GFLOP/s", "higher", "tapegrad",
                gflop / float(np.median(ours)), target="≥ 0.9× NumPy")  # fmt: skip
        r["values"]["numpy"] = gflop / float(np.median(theirs))
        rows.append(r)
    return rows


# ---------------------------------------------------------------- elementwise
def elementwise(quick, peer):
    if peer == "tapegrad-numpy":
        return []
    n = 100_000 if quick else 10_000_000
    rng = np.random.default_rng(1)
    x = rng.standard_normal(n).astype(np.float32)
    y = rng.standard_normal(n).astype(np.float32)
    if peer == "numpy":  # as users write it: each op makes a new array, as ours do
        fns = {"add": lambda: x + y, "relu": lambda: np.maximum(x, 0), "tanh": lambda: np.tanh(x)}
    elif peer == "torch":
        import torch

        px, py = torch.from_numpy(x), torch.from_numpy(y)
        fns = {"add": lambda: px + py, "relu": lambda: px.relu(), "tanh": lambda: px.tanh()}
    else:
        import tapegrad as tg

        tx, ty = tg.tensor(x), tg.tensor(y)
        fns = {"add": lambda: tx + ty, "relu": lambda: tx.relu(), "tanh": lambda: tx.tanh()}
    rows = []
    for name, passes in (("add", 3), ("relu", 2), ("tanh", 2)):
        gbs = passes * 4 * n / timed(fns[name], 0.1, 5) / 1e9
        target = "≥ 15 GB/s" if name == "tanh" else "≥ 85 % of the triad"
        rows.append(row(f"{name} float32, {n:.0e} elements", "GB/s", "higher", peer, gbs, target))
    if peer == "numpy":
        # The memory ceiling, STREAM-triad-like (a = b + s*c: 3 arrays of 4 bytes per element).
        z = np.empty_like(x)

        def triad():
            np.multiply(y, np.float32(1.5), out=z)
            np.add(z, x, out=z)

        rows.append(
            row(
                f"memory ceiling (NumPy triad), {n:.0e}",
                "GB/s",
                "higher",
                peer,
                5 * 4 * n / timed(triad, 0.1, 5) / 1e9,
            )
        )
    # tanh accuracy against float64 on a dense sweep.
    sweep = np.linspace(-10, 10, 2_000_001, dtype=np.float32)
    exact = np.tanh(sweep.astype(np.float64))
    if peer == "numpy":
        got = np.tanh(sweep)
    elif peer == "torch":
        import torch

        got = torch.from_numpy(sweep).tanh().numpy()
    else:
        import tapegrad as tg

        got = tg.tensor(sweep).tanh().numpy()
    err = float(np.max(np.abs(got.astype(np.float64) - exact)))
    rows.append(row("tanh float32 max abs error, [-10, 10]", "abs", "lower", peer, err, "≤ 5e-7"))
    return rows


# ---------------------------------------------------------------- training steps
MODELS = {
    "Linear(1,1), 50 points": ([1, 1], 50, False),
    "Linear(10,1)+ReLU, batch 64": ([10, 1], 64, True),
    "MLP 784-256-10, batch 64": ([784, 256, 10], 64, True),
    "MLP 784-256-10, batch 256": ([784, 256, 10], 256, True),
    "MLP 784-1024-1024-10, batch 256": ([784, 1024, 1024, 10], 256, True),
}
COMPILED = ("Linear(1,1), 50 points", "MLP 784-256-10, batch 64")


def _data(sizes, batch, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if sizes == [1, 1]:
        x = np.linspace(0, 50, batch, dtype=np.float32).reshape(-1, 1)
        return x.astype(dtype), (2 * x + 1).astype(dtype)
    x = rng.standard_normal((batch, sizes[0])).astype(dtype)
    y = rng.standard_normal((batch, sizes[-1])).astype(dtype)
    return x, y


def _step_fn(peer, sizes, batch, relu_last, dtype, compiled=False):
    """A user's training step (forward, MSE, zero_grad, backward, SGD) written once for both
    tapegrad and PyTorch."""
    L = lib(peer)
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(L.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2 or relu_last:
            layers.append(L.nn.ReLU())
    model = L.nn.Sequential(*layers)
    if dtype == "float16":
        model = model.half()
    x, y = _data(sizes, batch, dtype)
    X, Y = _tensor(peer, x), _tensor(peer, y)
    crit = L.nn.MSELoss()
    opt = L.optim.SGD(model.parameters(), lr=1e-4)

    def train_step(x, y):
        opt.zero_grad()
        loss = crit(model(x), y)
        loss.backward()
        opt.step()
        return loss

    fn = L.compile(train_step) if compiled else train_step
    return lambda: fn(X, Y)


def _numpy_step(sizes, batch, relu_last, dtype, seed=0):
    """The same step written by hand in NumPy (forward, backward, SGD), the way a user would."""
    rng = np.random.default_rng(seed)
    x, y = _data(sizes, batch, dtype)
    ws = [
        (rng.uniform(-1, 1, (sizes[i + 1], sizes[i])) / np.sqrt(sizes[i])).astype(dtype)
        for i in range(len(sizes) - 1)
    ]
    bs = [np.zeros(sizes[i + 1], dtype) for i in range(len(sizes) - 1)]
    n_layers = len(ws)

    def step():
        acts, pre = [x], []
        h = x
        for i in range(n_layers):
            z = h @ ws[i].T + bs[i]
            pre.append(z)
            h = np.maximum(z, 0) if (i < n_layers - 1 or relu_last) else z
            acts.append(h)
        g = (2.0 / h.size) * (h - y)
        for i in reversed(range(n_layers)):
            if i < n_layers - 1 or relu_last:
                g = g * (pre[i] > 0)
            gw = g.T @ acts[i]
            gb = g.sum(0)
            if i:
                g = g @ ws[i]
            ws[i] -= 1e-4 * gw
            bs[i] -= 1e-4 * gb

    return step


def train_steps(quick, peer):
    names = list(MODELS)[:3] if quick else list(MODELS)
    rows = []
    for dtype in ("float32", "float16"):
        for name in names:
            sizes, batch, relu_last = MODELS[name]
            big = sizes[-2] >= 1024
            slow_peer = peer in ("numpy", "torch", "tapegrad-numpy") and dtype == "float16"
            if slow_peer and (big or (quick and len(sizes) > 2)):
                continue  # ~1 GFLOP/s float16 matmuls: seconds per step
            if peer == "tapegrad-numpy" and quick and len(sizes) > 2:
                continue
            if peer == "numpy" and len(sizes) == 2:
                continue  # the tiny models are about per-op overhead, not NumPy's forte
            budget = 0.05 if quick else (0.3 if big else 0.15)
            step = (
                _numpy_step(sizes, batch, relu_last, dtype)
                if peer == "numpy"
                else _step_fn(peer, sizes, batch, relu_last, dtype)
            )
            label = f"train step {name}, {dtype}"
            rows.append(row(label, "µs", "lower", peer, timed(step, budget, 5) * 1e6))
            if name in COMPILED and peer in ("tapegrad", "torch"):
                # The compiled rows compare our replay with PyTorch's eager step (and our own).
                value = rows[-1]["values"][peer]
                if peer == "tapegrad":
                    fast = _step_fn(peer, sizes, batch, relu_last, dtype, compiled=True)
                    value = timed(fast, budget, 5) * 1e6
                r = row(f"{label}, tg.compile", "µs", "lower", peer, value)
                if peer == "tapegrad":
                    r["values"]["tapegrad-eager"] = rows[-1]["values"]["tapegrad"]
                rows.append(r)
    return rows


def _classifier_step(peer, dtype, batch=64, sizes=(784, 256, 10)):
    """A classifier's training step: MLP, CrossEntropyLoss on int64 class labels, SGD."""
    L = lib(peer)
    model = L.nn.Sequential(L.nn.Linear(sizes[0], sizes[1]), L.nn.ReLU(),
                            L.nn.Linear(sizes[1], sizes[2]))  # fmt: skip
    if dtype == "float16":
        model = model.half()
    rng = np.random.default_rng(0)
    X = _tensor(peer, rng.standard_normal((batch, sizes[0])).astype(dtype))
    Y = _tensor(peer, rng.integers(0, sizes[-1], batch).astype(np.int64))
    crit = L.nn.CrossEntropyLoss()
    opt = L.optim.SGD(model.parameters(), lr=1e-2)

    def step():
        opt.zero_grad()
        loss = crit(model(X), Y)
        loss.backward()
        opt.step()
        return loss

    return step


def classifier_steps(quick, peer):
    if peer not in ("tapegrad", "torch", "tapegrad-numpy"):
        return []  # a hand-written NumPy softmax cross-entropy is not what a user would run
    rows = []
    for dtype in ("float32", "float16"):
        if peer == "tapegrad-numpy" and dtype == "float16" and quick:
            continue
        label = f"classifier step MLP 784-256-10 + CrossEntropyLoss, batch 64, {dtype}"
        value = timed(_classifier_step(peer, dtype), 0.05 if quick else 0.15, 5) * 1e6
        rows.append(row(label, "µs", "lower", peer, value))
    return rows


# ---------------------------------------------------------------- import time
def import_time(quick, peer):
    if peer not in ("tapegrad", "torch"):
        return []
    code = "import time, numpy; t = time.perf_counter(); import {}; print(time.perf_counter() - t)"
    code = code.format(peer)
    # As an installed package would run: with bytecode (the first, warm-up run writes it even
    # where PYTHONDONTWRITEBYTECODE is set in the environment).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def once():
        out = subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env
        )
        return float(out.stdout)

    once()
    best = min(once() for _ in range(3 if quick else 7))
    return [row("import time on top of NumPy", "ms", "lower", peer, best * 1e3, "≤ 20 ms")]


# ---------------------------------------------------------------- gradients of gradients
def _pinn_step(peer, hidden=32, points=64):
    """A physics-informed step: u'' by two create_graph grads, then Adam on the residual."""
    L = lib(peer)
    L.manual_seed(0)
    model = L.nn.Sequential(L.nn.Linear(1, hidden), L.nn.Tanh(), L.nn.Linear(hidden, hidden),
                            L.nn.Tanh(), L.nn.Linear(hidden, 1))  # fmt: skip
    opt = L.optim.Adam(model.parameters(), lr=1e-3)
    x = _tensor(peer, np.linspace(0, 2, points, dtype=np.float32).reshape(-1, 1))

    def step():
        xx = x.detach().requires_grad_(True)
        u = model(xx)
        (du,) = L.autograd.grad(u.sum(), xx, create_graph=True)
        (d2u,) = L.autograd.grad(du.sum(), xx, create_graph=True)
        loss = ((d2u + u) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def _penalty_step(peer, batch=64, width=256):
    """A WGAN-GP critic step: the input gradient's norm penalised, backward into the weights."""
    L = lib(peer)
    L.manual_seed(0)
    critic = L.nn.Sequential(L.nn.Linear(784, width), L.nn.LeakyReLU(0.2),
                             L.nn.Linear(width, 1))  # fmt: skip
    opt = L.optim.Adam(critic.parameters(), lr=1e-4)
    x = _tensor(peer, np.random.default_rng(0).standard_normal((batch, 784), dtype=np.float32))

    def step():
        xx = x.detach().requires_grad_(True)
        scores = critic(xx)
        (g,) = L.autograd.grad(scores.sum(), xx, create_graph=True)
        loss = scores.mean() + 10 * ((g.norm(2, dim=1) - 1) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def _hvp(peer, n=256):
    """A Hessian-vector product of a small MLP's loss with respect to its input batch."""
    L = lib(peer)
    L.manual_seed(0)
    model = L.nn.Sequential(L.nn.Linear(n, n), L.nn.Tanh(), L.nn.Linear(n, 1))
    x = _tensor(peer, np.random.default_rng(0).standard_normal((32, n), dtype=np.float32))
    v = _tensor(peer, np.ones((32, n), dtype=np.float32))
    return lambda: L.autograd.functional.hvp(lambda t: model(t).sum(), x, v)


def double_backward(quick, peer):
    """Steps that differentiate a gradient (create_graph=True), against PyTorch."""
    if peer not in ("tapegrad", "torch"):
        return []
    budget = 0.05 if quick else 0.3
    return [
        row(label, "µs", "lower", peer, timed(make(peer), budget, 5) * 1e6)
        for label, make in (
            ("PINN step (u'' by two create_graph grads), MLP 1-32-32-1, 64 points", _pinn_step),
            ("WGAN-GP critic step, 784-256-1, batch 64", _penalty_step),
            ("hvp, MLP 256-256-1 (tanh), batch 32", _hvp),
        )
    ]


def cnn(quick, peer):
    """LeNet-5 and a conv layer (figures_cnn.py, which imports this module's helpers)."""
    from figures_cnn import cnn as run

    return run(quick, peer)


def ddp(quick, peer):
    """DistributedDataParallel on 1 and 2 MPI ranks (figures_ddp.py)."""
    from figures_ddp import ddp as run

    return run(quick, peer)


ALL = {
    "overhead": overhead,
    "gemm": gemm,
    "elementwise": elementwise,
    "train": train_steps,
    "classify": classifier_steps,
    "double": double_backward,
    "cnn": cnn,
    "ddp": ddp,
    "import": import_time,
}
