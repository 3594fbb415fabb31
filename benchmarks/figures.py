"""The measurements behind benchmarks/run.py. Each function returns a list of rows:

    {"figure": str, "unit": str, "better": "lower"|"higher", "values": {peer: number}}

Peers: "tapegrad" (cpp backend), "tapegrad-numpy" (our reference backend), "numpy" (plain NumPy,
by hand), "torch" (PyTorch, when installed). Timings are the best of several repeats: the
machines are shared and noisy, and the minimum is the least disturbed run.
"""

import subprocess
import sys
import time

import numpy as np
import tapegrad as tg

try:
    import torch
except ImportError:  # PyTorch is an optional peer
    torch = None


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


def autonumber(fn, budget=0.05):
    """A call count that makes one repeat last about `budget` seconds."""
    t0 = time.perf_counter()
    fn()
    dt = max(time.perf_counter() - t0, 1e-7)
    return max(1, int(budget / dt))


def timed(fn, budget=0.05, repeat=5):
    return best_time(fn, autonumber(fn, budget), repeat)


def row(figure, unit, better, values, target=None):
    r = {"figure": figure, "unit": unit, "better": better, "values": values}
    if target:
        r["target"] = target
    return r


# ---------------------------------------------------------------- per-op overhead
def overhead(quick):
    vals = {}
    for be in ("cpp", "numpy"):
        a = tg.tensor([2.0], requires_grad=True, backend=be)
        b = tg.tensor([3.0], requires_grad=True, backend=be)
        vals["tapegrad" if be == "cpp" else "tapegrad-numpy"] = timed(lambda: a + b) * 1e6
    if torch is not None:
        ta = torch.tensor([2.0], requires_grad=True)
        tb = torch.tensor([3.0], requires_grad=True)
        vals["torch"] = timed(lambda: ta + tb) * 1e6
    rows = [row("1-element a + b with grad", "µs", "lower", vals, "≤ 1 µs")]

    # The fixed cost of a small backward: build a 4-node graph, with and without backward.
    def graph(mod, a, b):
        return ((a * b + a) * b).sum()

    vals = {}
    for name, mod, a, b in _small_graph_inputs():
        build = timed(lambda: graph(mod, a, b))
        both = timed(lambda: graph(mod, a, b).backward())
        vals[name] = max(both - build, 0.0) * 1e6
    rows.append(row("small backward() (4 nodes)", "µs", "lower", vals, "≤ 5 µs"))
    return rows


def _small_graph_inputs():
    out = []
    for be in ("cpp", "numpy"):
        a = tg.tensor([1.5, 2.0], requires_grad=True, backend=be)
        b = tg.tensor([0.5, -1.0], requires_grad=True, backend=be)
        out.append(("tapegrad" if be == "cpp" else "tapegrad-numpy", tg, a, b))
    if torch is not None:
        a = torch.tensor([1.5, 2.0], requires_grad=True)
        b = torch.tensor([0.5, -1.0], requires_grad=True)
        out.append(("torch", torch, a, b))
    return out


# ---------------------------------------------------------------- GEMM
def gemm(quick):
    sizes = [64, 256] if quick else [64, 128, 256, 512, 1024, 2048]
    shapes = [(n, n, n) for n in sizes]
    mlp = [(64, 784, 256), (64, 256, 10), (256, 784, 1024), (256, 1024, 1024)]
    if not quick:
        shapes += mlp
    rows = []
    rng = np.random.default_rng(0)
    for dtype in ("float32", "float16"):
        for m, k, n in shapes:
            a = rng.standard_normal((m, k)).astype(dtype)
            b = rng.standard_normal((k, n)).astype(dtype)
            flops = 2.0 * m * n * k
            budget = 0.02 if quick else 0.1
            vals = {}
            ta, tb = tg.tensor(a), tg.tensor(b)
            vals["tapegrad"] = flops / timed(lambda: ta @ tb, budget, 3) / 1e9
            if dtype == "float32" or flops <= 2 * 256**3 or not quick:
                # NumPy's float16 matmul is very slow: keep the big f16 sizes out of quick runs.
                if dtype == "float32" or flops <= 2 * 512**3:
                    vals["numpy"] = flops / timed(lambda: a @ b, budget, 3) / 1e9
            if torch is not None and (dtype == "float32" or flops <= 2 * 512**3):
                pa, pb = torch.from_numpy(a), torch.from_numpy(b)
                vals["torch"] = flops / timed(lambda: pa @ pb, budget, 3) / 1e9
            rows.append(row(f"GEMM {dtype} {m}x{k} @ {k}x{n}", "GFLOP/s", "higher", vals))
    return rows


# ---------------------------------------------------------------- elementwise
def elementwise(quick):
    n = 100_000 if quick else 10_000_000
    rng = np.random.default_rng(1)
    x = rng.standard_normal(n).astype(np.float32)
    y = rng.standard_normal(n).astype(np.float32)
    tx, ty = tg.tensor(x), tg.tensor(y)
    px, py = (torch.from_numpy(x), torch.from_numpy(y)) if torch is not None else (None, None)
    rows = []
    cases = [
        ("add", 3, lambda: tx + ty, lambda: x + y, (lambda: px + py) if px is not None else None),
        (
            "relu",
            2,
            lambda: tx.relu(),
            lambda: np.maximum(x, 0),
            (lambda: px.relu()) if px is not None else None,
        ),
        (
            "tanh",
            2,
            lambda: tx.tanh(),
            lambda: np.tanh(x),
            (lambda: px.tanh()) if px is not None else None,
        ),
    ]
    for name, passes, ours, np_fn, torch_fn in cases:
        nbytes = passes * 4 * n
        vals = {
            "tapegrad": nbytes / timed(ours, 0.1, 5) / 1e9,
            "numpy": nbytes / timed(np_fn, 0.1, 5) / 1e9,
        }
        if torch_fn is not None:
            vals["torch"] = nbytes / timed(torch_fn, 0.1, 5) / 1e9
        target = "≥ 15 GB/s" if name == "tanh" else "≥ 85 % of STREAM"
        rows.append(row(f"{name} float32, {n:.0e} elements", "GB/s", "higher", vals, target))
    # STREAM-triad-like ceiling measured in the same run (NumPy, in place: 3 passes of 4 bytes).
    z = np.empty_like(x)

    def triad():
        np.multiply(y, np.float32(1.5), out=z)
        np.add(z, x, out=z)

    rows.append(
        row(
            f"memory ceiling (NumPy triad), {n:.0e}",
            "GB/s",
            "higher",
            {"numpy": 5 * 4 * n / timed(triad, 0.1, 5) / 1e9},
        )
    )
    # tanh accuracy against float64 on a dense sweep.
    sweep = np.linspace(-10, 10, 2_000_001, dtype=np.float32)
    ours = tg.tensor(sweep).tanh().numpy().astype(np.float64)
    err = float(np.max(np.abs(ours - np.tanh(sweep.astype(np.float64)))))
    rows.append(
        row(
            "tanh float32 max abs error (sweep of [-10, 10])",
            "abs",
            "lower",
            {
                "tapegrad": err,
                "numpy": float(
                    np.max(
                        np.abs(
                            np.tanh(sweep).astype(np.float64) - np.tanh(sweep.astype(np.float64))
                        )
                    )
                ),
            },
            "≤ 5e-7",
        )
    )
    return rows


# ---------------------------------------------------------------- training steps
def _mlp_sizes(name):
    return {
        "Linear(1,1), 50 points": ([1, 1], 50, False),
        "Linear(10,1)+ReLU, batch 64": ([10, 1], 64, True),
        "MLP 784-256-10, batch 64": ([784, 256, 10], 64, True),
        "MLP 784-256-10, batch 256": ([784, 256, 10], 256, True),
        "MLP 784-1024-1024-10, batch 256": ([784, 1024, 1024, 10], 256, True),
    }[name]


def _build(lib, sizes, relu_last, dtype):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(lib.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2 or relu_last:
            layers.append(lib.nn.ReLU())
    model = lib.nn.Sequential(*layers)
    if dtype == "float16":
        model = model.half()
    return model


def _step_fn(lib, sizes, batch, relu_last, dtype, seed=0, compiled=False):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, sizes[0])).astype(dtype)
    y = rng.standard_normal((batch, sizes[-1])).astype(dtype)
    if sizes == [1, 1]:
        x = np.linspace(0, 50, batch, dtype=np.float32).reshape(-1, 1).astype(dtype)
        y = (2 * x + 1).astype(dtype)
    model = _build(lib, sizes, relu_last, dtype)
    X, Y = lib.tensor(x), lib.tensor(y)
    crit = lib.nn.MSELoss()
    opt = lib.optim.SGD(model.parameters(), lr=1e-4)

    def train_step(x, y):
        opt.zero_grad()
        loss = crit(model(x), y)
        loss.backward()
        opt.step()
        return loss

    fn = lib.compile(train_step) if compiled else train_step

    def step():
        fn(X, Y)

    return step


def _numpy_step(sizes, batch, relu_last, dtype, seed=0):
    """The same step written by hand in NumPy (forward, backward, SGD), the way a user would."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, sizes[0])).astype(dtype)
    y = rng.standard_normal((batch, sizes[-1])).astype(dtype)
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


def train_steps(quick):
    names = ["Linear(1,1), 50 points", "Linear(10,1)+ReLU, batch 64", "MLP 784-256-10, batch 64"]
    if not quick:
        names += ["MLP 784-256-10, batch 256", "MLP 784-1024-1024-10, batch 256"]
    rows = []
    for dtype in ("float32", "float16"):
        for name in names:
            sizes, batch, relu_last = _mlp_sizes(name)
            big = sizes[-2] >= 1024
            budget = 0.05 if quick else (0.3 if big else 0.15)
            vals = {}
            with tg.use_backend("cpp"):
                vals["tapegrad"] = (
                    timed(_step_fn(tg, sizes, batch, relu_last, dtype), budget, 5) * 1e6
                )
            if not (quick and len(sizes) > 2) and not (big and dtype == "float16"):
                with tg.use_backend("numpy"):
                    vals["tapegrad-numpy"] = (
                        timed(_step_fn(tg, sizes, batch, relu_last, dtype), budget, 3) * 1e6
                    )
            if len(sizes) > 2 and not (dtype == "float16" and big):
                vals["numpy"] = timed(_numpy_step(sizes, batch, relu_last, dtype), budget, 3) * 1e6
            if torch is not None and not (dtype == "float16" and big and quick):
                vals["torch"] = (
                    timed(_step_fn(torch, sizes, batch, relu_last, dtype), budget, 3) * 1e6
                )
            rows.append(row(f"train step {name}, {dtype}", "µs", "lower", vals))
            if name in COMPILED:
                comp = {"tapegrad": None, "tapegrad-eager": vals["tapegrad"]}
                with tg.use_backend("cpp"):
                    step = _step_fn(tg, sizes, batch, relu_last, dtype, compiled=True)
                    comp["tapegrad"] = timed(step, budget, 5) * 1e6
                if "torch" in vals:
                    comp["torch"] = vals["torch"]
                rows.append(row(f"train step {name}, {dtype}, tg.compile", "µs", "lower", comp))
    return rows


COMPILED = ("Linear(1,1), 50 points", "MLP 784-256-10, batch 64")


# ---------------------------------------------------------------- import time
def import_time(quick):
    def cost(stmt):
        best = float("inf")
        for _ in range(3 if quick else 7):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", stmt], check=True)
            best = min(best, time.perf_counter() - t0)
        return best

    base = cost("import numpy")
    vals = {"tapegrad": (cost("import numpy, tapegrad") - base) * 1e3}
    if torch is not None:
        vals["torch"] = (cost("import numpy, torch") - base) * 1e3
    return [row("import time on top of NumPy", "ms", "lower", vals, "≤ 20 ms")]


ALL = {
    "overhead": overhead,
    "gemm": gemm,
    "elementwise": elementwise,
    "train": train_steps,
    "import": import_time,
}
