"""Convolutional networks against PyTorch: a LeNet-5 training step and one 3x3 conv layer.

A group of benchmarks/run.py (figures.py explains the row format). The conv layer also reports its
throughput as a fraction of one core's float32 FMA peak, measured by `tapegrad._core`'s
register-only FMA loop in the same process.
"""

import numpy as np
from figures import lib, row, timed


def lenet(L):
    """LeNet-5 for 28x28 digits, as the tutorials write it (padding 2 on the first conv)."""
    nn = L.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )  # fmt: skip


def _tensor(L, arr):
    return L.tensor(arr)


def _lenet_step(peer, dtype, batch=64, compiled=False):
    L = lib(peer)
    L.manual_seed(0)
    model = lenet(L)
    if dtype == "float16":
        model = model.half()
    rng = np.random.default_rng(0)
    X = _tensor(L, rng.standard_normal((batch, 1, 28, 28)).astype(dtype))
    Y = _tensor(L, rng.integers(0, 10, batch).astype(np.int64))
    crit = L.nn.CrossEntropyLoss()
    opt = L.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)

    def step():
        opt.zero_grad()
        loss = crit(model(X), Y)
        loss.backward()
        opt.step()
        return loss

    return L.compile(step) if compiled else step


def _conv_layer(peer, batch=8, ch=64, size=56, dtype="float32"):
    L = lib(peer)
    rng = np.random.default_rng(0)
    x = _tensor(L, rng.standard_normal((batch, ch, size, size)).astype(dtype))
    w = _tensor(L, (rng.standard_normal((ch, ch, 3, 3)) * 0.05).astype(dtype))
    F = L.nn.functional
    with L.no_grad():
        F.conv2d(x, w, padding=1)
    return lambda: F.conv2d(x, w, padding=1)


def cnn(quick, peer):
    if peer not in ("tapegrad", "torch"):
        return []
    budget = 0.05 if quick else 0.3
    rows = []
    for dtype in ("float32", "float16"):
        if peer == "torch" and dtype == "float16" and quick:
            continue  # PyTorch's float16 convolutions take seconds per step on CPUs
        label = f"LeNet-5 training step, batch 64, 28x28, {dtype}"
        rows.append(row(label, "ms", "lower", peer, timed(_lenet_step(peer, dtype), budget) * 1e3))
        if peer == "tapegrad" and dtype == "float32":
            value = timed(_lenet_step(peer, dtype, compiled=True), budget) * 1e3
            rows.append(row(label + ", tg.compile", "ms", "lower", peer, value))
    size = 28 if quick else 56
    flops = 2 * 8 * 64 * 64 * 9 * size * size
    seconds = timed(_conv_layer(peer, size=size), budget)
    label = f"conv2d 3x3, 64->64 channels, {size}x{size}, batch 8, float32"
    rows.append(row(label, "GFLOP/s", "higher", peer, flops / seconds / 1e9))
    if peer == "tapegrad":
        import tapegrad

        peak = tapegrad._core.fma_peak_gflops()
        if peak:
            threads = tapegrad.get_num_threads()
            fraction = flops / seconds / 1e9 / (peak * threads)
            rows.append(row(label + ": fraction of FMA peak", "%", "higher", peer, 100 * fraction))
    if not (quick and peer == "torch"):  # PyTorch's float16 layer takes most of a second
        seconds = timed(_conv_layer(peer, size=size, dtype="float16"), budget, 3)
        label = f"conv2d 3x3, 64->64 channels, {size}x{size}, batch 8, float16"
        rows.append(row(label, "GFLOP/s", "higher", peer, flops / seconds / 1e9))
    return rows
