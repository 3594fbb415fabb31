"""One training step against every peer: PyTorch eager, torch.compile, jax.jit, mx.compile, NumPy.

A group of benchmarks/run.py (figures.py explains the row format). Each row is the same step for
every peer, written the way that library's users write it: forward, MSE (or cross-entropy) loss,
backward, SGD update of the parameters. tapegrad reports its eager step ("tapegrad") and its
tg.compile replay ("tapegrad-compile"); run.py compares the compiled peers with the replay and the
eager ones with the eager step. JAX and MLX are optional: a peer that is not installed gives no
rows. The first call of a compiled step (tracing and compilation) is timed apart, in "compile".
A peer that fails leaves its reason in "notes" instead of a number.
"""

import os
import time

import numpy as np
from figures import _classifier_step, _numpy_step, _step_fn, row

# label, loss, layer sizes (None: LeNet-5), batch, dtype
ROWS = [
    ("Linear(1,1), 50 points", "mse", [1, 1], 50, "float32"),
    ("MLP 10-32-1, batch 64", "mse", [10, 32, 1], 64, "float32"),
    ("MLP 784-256-10, batch 64", "mse", [784, 256, 10], 64, "float32"),
    ("MLP 784-256-10, batch 64", "mse", [784, 256, 10], 64, "float16"),
    ("MLP 784-1024-1024-10, batch 256", "mse", [784, 1024, 1024, 10], 256, "float32"),
    ("classifier MLP 784-256-10 + CrossEntropyLoss, batch 64", "ce", [784, 256, 10], 64, "float32"),
    ("LeNet-5, batch 64, 28x28", "ce", None, 64, "float32"),
]
QUICK = 2  # --quick: the two small rows, which are about per-step overhead
PEERS = ("tapegrad", "torch", "torch-compile", "jax", "mlx", "numpy")
LR = {"mse": 1e-4, "ce": 1e-2}


def _inputs(loss, sizes, batch, dtype, nhwc=False):
    rng = np.random.default_rng(0)
    if sizes is None:
        x = rng.standard_normal((batch, 28, 28, 1) if nhwc else (batch, 1, 28, 28))
        return x.astype(dtype), rng.integers(0, 10, batch).astype(np.int32)
    if loss == "ce":
        x = rng.standard_normal((batch, sizes[0])).astype(dtype)
        return x, rng.integers(0, sizes[-1], batch).astype(np.int32)
    if sizes == [1, 1]:
        x = np.linspace(0, 50, batch, dtype=np.float32).reshape(-1, 1)
        return x.astype(dtype), (2 * x + 1).astype(dtype)
    x = rng.standard_normal((batch, sizes[0])).astype(dtype)
    return x, rng.standard_normal((batch, sizes[-1])).astype(dtype)


def _uniform(rng, shape, fan_in, dtype):
    return (rng.uniform(-1, 1, shape) / np.sqrt(fan_in)).astype(dtype)


# ---------------------------------------------------------------- JAX
def _jax_step(loss, sizes, batch, dtype):
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(0)
    lr, momentum = LR[loss], (0.9 if sizes is None else 0.0)
    if sizes is None:  # LeNet-5, NCHW as PyTorch's
        convs = [(6, 1, 5), (16, 6, 5)]
        params = [
            (_uniform(rng, (o, i, k, k), i * k * k, dtype), np.zeros(o, dtype)) for o, i, k in convs
        ]
        dense = [400, 120, 84, 10]
    else:
        params, dense = [], sizes
    params += [
        (_uniform(rng, (dense[i], dense[i + 1]), dense[i], dtype), np.zeros(dense[i + 1], dtype))
        for i in range(len(dense) - 1)
    ]
    params = jax.tree_util.tree_map(jnp.asarray, params)
    n_conv = 2 if sizes is None else 0

    def forward(params, x):
        for i, (w, b) in enumerate(params[:n_conv]):
            x = jax.lax.conv_general_dilated(
                x,
                w,
                (1, 1),
                [(2, 2)] * 2 if i == 0 else "VALID",
                dimension_numbers=("NCHW", "OIHW", "NCHW"),
            )
            x = jax.nn.relu(x + b[:, None, None])
            x = jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
        x = x.reshape(x.shape[0], -1)
        dense_params = params[n_conv:]
        for i, (w, b) in enumerate(dense_params):
            x = x @ w + b
            if i < len(dense_params) - 1:
                x = jax.nn.relu(x)
        return x

    def loss_fn(params, x, y):
        out = forward(params, x)
        if loss == "mse":
            return jnp.mean((out - y) ** 2)
        logp = jax.nn.log_softmax(out)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    # donate_argnums: the old parameters' buffers are reused for the new ones, as a training loop
    # written for JAX does.
    def sgd(params, x, y):
        value, grads = jax.value_and_grad(loss_fn)(params, x, y)
        return jax.tree_util.tree_map(lambda p, g: p - lr * g, params, grads), value

    def sgd_momentum(state, x, y):
        params, bufs = state
        value, grads = jax.value_and_grad(loss_fn)(params, x, y)
        bufs = jax.tree_util.tree_map(lambda b, g: momentum * b + g, bufs, grads)
        return (jax.tree_util.tree_map(lambda p, b: p - lr * b, params, bufs), bufs), value

    step = jax.jit(sgd_momentum if momentum else sgd, donate_argnums=0)
    state = [(params, jax.tree_util.tree_map(jnp.zeros_like, params)) if momentum else params]
    x, y = (jnp.asarray(a) for a in _inputs(loss, sizes, batch, dtype))

    def run():
        state[0], value = step(state[0], x, y)
        jax.block_until_ready(state[0])

    return run


# ---------------------------------------------------------------- MLX
def _mlx_step(loss, sizes, batch, dtype):
    from functools import partial

    import mlx.core as mx
    import mlx.nn as nn
    import mlx.optimizers as optim

    if sizes is None:  # LeNet-5, NHWC: MLX's convolution layout
        layers = [nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
                  lambda h: h.reshape(h.shape[0], -1),
                  nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                  nn.Linear(84, 10)]  # fmt: skip
    else:
        layers = []
        for i in range(len(sizes) - 1):
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    if dtype == "float16":
        model.set_dtype(mx.float16)
    mx.eval(model.parameters())
    opt = optim.SGD(learning_rate=LR[loss], momentum=0.9 if sizes is None else 0.0)

    def loss_fn(model, x, y):
        out = model(x)
        if loss == "mse":
            return nn.losses.mse_loss(out, y)
        return nn.losses.cross_entropy(out, y, reduction="mean")

    value_and_grad = nn.value_and_grad(model, loss_fn)
    state = [model.state, opt.state]

    @partial(mx.compile, inputs=state, outputs=state)
    def step(x, y):
        value, grads = value_and_grad(model, x, y)
        opt.update(model, grads)
        return value

    x, y = (mx.array(a) for a in _inputs(loss, sizes, batch, dtype, nhwc=True))

    def run():
        value = step(x, y)
        mx.eval(value, state)  # MLX is lazy: nothing runs until evaluated

    return run


# ---------------------------------------------------------------- tapegrad and PyTorch
def _lib_step(peer, loss, sizes, batch, dtype, compiled):
    lib_peer = "torch" if peer == "torch-compile" else peer
    if peer == "torch-compile":
        import torch

        # Each row compiles from scratch: its first call is then its own compilation, and no row
        # meets dynamo's limit on recompiling one function (the step's code is shared by rows).
        torch._dynamo.reset()
    if sizes is None:
        from figures_cnn import _lenet_step

        return _lenet_step(lib_peer, dtype, batch, compiled=compiled)
    if loss == "ce":
        step = _classifier_step(lib_peer, dtype, batch, tuple(sizes))
        if compiled:
            import importlib

            step = importlib.import_module(lib_peer).compile(step)
        return step
    return _step_fn(lib_peer, sizes, batch, False, dtype, compiled=compiled)


def _measure_all(makers, budget, notes, repeat=5):
    """{name: (best seconds per step, seconds of the first call)} for steps measured in one
    process. The repeats alternate between the steps (eager, compiled, eager, ...), so a drift
    of the machine's speed during the row reaches both alike and their ratio is fair. A step
    that cannot run leaves its reason in notes."""
    runs, out = {}, {}
    for name, make in makers.items():
        try:
            fn = make()
            t0 = time.perf_counter()
            fn()
            first = time.perf_counter() - t0
            t0 = time.perf_counter()
            fn()
            calls = max(1, int(budget / max(time.perf_counter() - t0, 1e-7)))
        except Exception as exc:  # a peer that cannot run this step says why, in a footnote
            notes[name] = _why(exc)
            continue
        runs[name], out[name] = (fn, calls), (float("inf"), first)
    for _ in range(repeat):
        for name, (fn, calls) in runs.items():
            t0 = time.perf_counter()
            for _ in range(calls):
                fn()
            seconds = (time.perf_counter() - t0) / calls
            out[name] = (min(out[name][0], seconds), out[name][1])
    return out


def _why(exc):
    return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"[
        :160
    ]


def peers(quick, peer):
    if peer not in PEERS:
        return []
    if peer == "torch-compile" and quick:
        return []  # tens of seconds of compilation per model: not for the CI's quick run
    rows = []
    for label, loss, sizes, batch, dtype in ROWS[:QUICK] if quick else ROWS:
        big = sizes is None or (sizes[-2] >= 1024)
        budget = 0.05 if quick else (0.3 if big else 0.15)
        figure = f"peer step {label}, {dtype}"
        r = row(figure, "µs", "lower", peer, None)
        r["values"], r["compile"], r["notes"], r["table"] = {}, {}, {}, "peers"
        makers = {}
        if peer == "numpy":
            if loss == "mse":
                makers["numpy"] = lambda: _numpy_step(sizes, batch, False, dtype)
        elif peer == "jax":
            makers["jax"] = lambda: _jax_step(loss, sizes, batch, dtype)
        elif peer == "mlx":
            makers["mlx"] = lambda: _mlx_step(loss, sizes, batch, dtype)
        else:
            makers[peer] = lambda: _lib_step(
                peer, loss, sizes, batch, dtype, peer == "torch-compile"
            )
            if peer == "tapegrad":
                makers["tapegrad-compile"] = lambda: _lib_step(
                    peer, loss, sizes, batch, dtype, True
                )
        for name, (seconds, first) in _measure_all(makers, budget, r["notes"]).items():
            r["values"][name] = seconds * 1e6
            if name in ("tapegrad-compile", "torch-compile", "jax", "mlx"):
                r["compile"][name] = first
        if r["values"] or r["notes"]:
            rows.append(r)
        if peer == "tapegrad" and sizes == [784, 1024, 1024, 10]:
            rows += _fraction_of_peak(label, dtype, sizes, batch, r["values"])
    return rows


def _step_flops(sizes, batch):
    """Multiply-adds x 2 of one training step of an MLP whose input needs no gradient: the
    forward product and the weight gradient of every layer, the input gradient of all but the
    first."""
    pairs = [sizes[i] * sizes[i + 1] for i in range(len(sizes) - 1)]
    return 2 * batch * (2 * sum(pairs) + sum(pairs[1:]))


def _fraction_of_peak(label, dtype, sizes, batch, values):
    """The large MLP's step as a fraction of the FMA peak of the threads it ran on, measured in
    this process by tapegrad._core's register-only FMA loop on that many threads at once (16-lane
    where the AVX-512 GEMM kernels are in use, else 8-lane; 0 without SIMD: no row)."""
    import tapegrad

    threads = tapegrad.get_num_threads()
    peak = tapegrad._core.fma_peak_gflops(threads)
    if not peak:
        return []
    flops = _step_flops(sizes, batch)
    rows = [row(f"FMA peak, {threads} thread(s) at once", "GFLOP/s", "higher", "tapegrad", peak)]
    for name, kind in (("tapegrad", "eager"), ("tapegrad-compile", "tg.compile")):
        if name in values:
            gflops = flops / (values[name] * 1e-6) / 1e9
            figure = f"{label}, {dtype}, {kind}: fraction of FMA peak"
            rows.append(row(figure, "%", "higher", "tapegrad", 100 * gflops / peak, "≥ 85 %"))
    return rows


def thread_env(peer, threads):
    """Environment a peer's process needs before its import to run `threads` threads."""
    env = {}
    if peer == "jax":
        # XLA's CPU client reads its thread settings from XLA_FLAGS when jax is first imported.
        multi = "true" if threads > 1 else "false"
        flags = f"--xla_cpu_multi_thread_eigen={multi} intra_op_parallelism_threads={threads}"
        env["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + flags).strip()
    return env
