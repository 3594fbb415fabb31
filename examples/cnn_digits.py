"""LeNet-5 learns to read digits: the first convolutional network of most tutorials.

Data: scikit-learn's bundled 8x8 handwritten digits (1,797 images, no download) when scikit-learn
is installed, each scaled 3x to 24x24 and padded to 28x28; otherwise a synthetic set of 28x28
digits drawn from ten seven-segment shapes, shifted, thickened and noised (seeded NumPy).
Model: LeNet-5 (conv 5x5 -> 6, ReLU, max-pool 2; conv 5x5 -> 16, ReLU, max-pool 2; 120-84-10),
trained with SGD + momentum on mini-batches of 64 and CrossEntropyLoss; accuracy on a held-out
fifth of the data.

Stated result: at least 95 % held-out accuracy after the default 5 epochs (seed 0), on both
backends, float32 and float16.

    python examples/cnn_digits.py [--backend {cpp,numpy}] [--epochs N]
                                  [--dtype {float32,float16}] [--synthetic]
"""

import argparse
import contextlib
import time

import numpy as np
import tapegrad as tg
import tapegrad.nn as nn
from tapegrad.utils import progress

STATED_ACCURACY = 0.95

# Seven-segment shapes of 0-9: segments a (top), b (top right), c (bottom right), d (bottom),
# e (bottom left), f (top left), g (middle).
SEGMENTS = ["abcdef", "bc", "abged", "abgcd", "fgbc", "afgcd", "afgedc", "abc", "abcdefg", "abcdfg"]


def _segment_image(digit, rng):
    img = np.zeros((28, 28), np.float32)
    top, mid, bot, left, right = 5, 14, 23, 8, 19
    thick = int(rng.integers(1, 3))
    lines = {
        "a": (slice(top, top + thick), slice(left, right + 1)),
        "g": (slice(mid, mid + thick), slice(left, right + 1)),
        "d": (slice(bot - thick + 1, bot + 1), slice(left, right + 1)),
        "f": (slice(top, mid + 1), slice(left, left + thick)),
        "b": (slice(top, mid + 1), slice(right - thick + 1, right + 1)),
        "e": (slice(mid, bot + 1), slice(left, left + thick)),
        "c": (slice(mid, bot + 1), slice(right - thick + 1, right + 1)),
    }
    for s in SEGMENTS[digit]:
        img[lines[s]] = 1.0
    img = np.roll(img, (int(rng.integers(-2, 3)), int(rng.integers(-3, 4))), axis=(0, 1))
    return img + rng.normal(0.0, 0.2, img.shape).astype(np.float32)


def synthetic_digits(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    x = np.stack([_segment_image(int(d), rng) for d in y])
    return x[:, None].astype(np.float32), y.astype(np.int64)


def load_digits(synthetic=False, seed=0):
    """(images (N, 1, 28, 28) float32 with zero mean and unit variance, labels (N,) int64, name)."""
    if not synthetic:
        try:
            from sklearn.datasets import load_digits as sk_digits  # type: ignore
        except ImportError:
            synthetic = True
    if synthetic:
        x, y = synthetic_digits(seed=seed)
        name = "synthetic seven-segment digits"
    else:
        d = sk_digits()
        x = np.kron(d.images / 16.0, np.ones((3, 3)))  # 8x8 -> 24x24
        x = np.pad(x, ((0, 0), (2, 2), (2, 2)))[:, None].astype(np.float32)
        y = d.target.astype(np.int64)
        name = "scikit-learn's 8x8 digits"
    x = (x - x.mean()) / x.std()
    return x.astype(np.float32), y, name


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )  # fmt: skip


def accuracy(model, x, y):
    with tg.no_grad():
        pred = model(x).argmax(dim=1)
    return float((pred == y).float().mean())


def run(epochs=5, batch=64, lr=0.03, dtype="float32", synthetic=False, seed=0, verbose=True):
    say = print if verbose else (lambda *a, **k: None)
    tg.manual_seed(seed)
    x_np, y_np, name = load_digits(synthetic, seed)
    order = np.random.default_rng(seed).permutation(len(y_np))
    cut = len(order) * 4 // 5
    dt = tg.float16 if dtype == "float16" else tg.float32
    x = tg.tensor(x_np[order[:cut]], dtype=dt)
    y = tg.tensor(y_np[order[:cut]])
    x_test = tg.tensor(x_np[order[cut:]], dtype=dt)
    y_test = tg.tensor(y_np[order[cut:]])
    model = lenet5().to(dt)
    opt = tg.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    say(f"{model}\n{name}: {cut} training and {len(order) - cut} held-out images, {dtype}")
    t0, steps = time.perf_counter(), 0
    for epoch in range(epochs):
        perm = tg.randperm(cut)
        total = 0.0
        batches = range(0, cut, batch)  # a bar per epoch on a terminal (tqdm if installed)
        for i in progress(batches, desc=f"epoch {epoch + 1}", enabled=None if verbose else False):
            idx = perm[i : i + batch]
            loss = loss_fn(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            steps += 1
        say(f"epoch {epoch + 1}  loss {total / cut:.4f}  "
            f"held-out accuracy {accuracy(model, x_test, y_test):.1%}")  # fmt: skip
    ms = (time.perf_counter() - t0) / max(steps, 1) * 1e3
    test_acc = accuracy(model, x_test, y_test)
    say(f"held-out accuracy {test_acc:.1%} (stated: >= {STATED_ACCURACY:.0%}); "
        f"{ms:.2f} ms per step of {batch}")  # fmt: skip
    return {"test_accuracy": test_acc, "ms_per_step": ms}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=["cpp", "numpy"], default=None)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--dtype", choices=["float32", "float16"], default="float32")
    ap.add_argument("--synthetic", action="store_true", help="the synthetic set even with sklearn")
    args = ap.parse_args(argv)
    ctx = tg.use_backend(args.backend) if args.backend else contextlib.nullcontext()
    with ctx:
        return run(epochs=args.epochs, dtype=args.dtype, synthetic=args.synthetic)


if __name__ == "__main__":
    main()
