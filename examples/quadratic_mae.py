"""Fitting a quadratic by gradient descent on the mean absolute error: the "Neural Networks /
Gradient Descent" tutorial.

Noisy samples of f(x) = 3x^2 + 2x + 1 on torch.linspace(-2, 2, steps=20)[:, None]; the
parameters abc = [a, b, c] start at 1.1, get requires_grad_(), and are updated by hand with
`with torch.no_grad(): abc -= abc.grad * 0.01`, printing f"loss={loss:.2f}" as in the tutorial
(which, like here, never zeroes the gradient: it accumulates). Saves a plot of the data and the
fit in examples/out/ when matplotlib is installed.

    python examples/quadratic_mae.py [--backend {cpp,numpy}] [--steps N] [--no-plot]
"""

import argparse
import contextlib
import os
from functools import partial

import numpy as np
import tapegrad as torch

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")


def f(x):
    return 3 * x**2 + 2 * x + 1


def quad(a, b, c, x):
    return a * x**2 + b * x + c


def mk_quad(a, b, c):
    return partial(quad, a, b, c)


def noise(x, scale):
    return np.random.normal(scale=scale, size=x.shape)


def add_noise(x, mult, add):
    return x * (1 + noise(x, mult)) + noise(x, add)


def mae(preds, acts):
    return (torch.abs(preds - acts)).mean()


def run(steps=10, lr=0.01, plot=True, out_dir=OUT_DIR, verbose=True):
    say = print if verbose else (lambda *a, **k: None)
    np.random.seed(42)
    x = torch.linspace(-2, 2, steps=20)[:, None]
    y = add_noise(f(x), 0.15, 1.5)

    def quad_mae(params):
        fq = mk_quad(*params)
        return mae(fq(x), y)

    abc = torch.tensor([1.1, 1.1, 1.1])
    abc.requires_grad_()
    loss = quad_mae(abc)
    say(f"initial loss={loss:.2f}")
    loss.backward()
    say(f"abc.grad = {abc.grad}")
    with torch.no_grad():
        abc -= abc.grad * lr
        loss = quad_mae(abc)
    say(f"loss={loss:.2f}")

    losses = []
    for i in range(steps):
        loss = quad_mae(abc)
        loss.backward()
        with torch.no_grad():
            abc -= abc.grad * lr
        losses.append(loss.item())
        say(f"step={i}; loss={loss:.2f}")
    a, b, c = abc.tolist()
    say(f"a={a:.3f} b={b:.3f} c={c:.3f}   (the data came from a=3, b=2, c=1)")

    if plot:
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            say("note: matplotlib is not installed, so no plot was saved (pip install matplotlib)")
        else:
            os.makedirs(out_dir, exist_ok=True)
            fig, ax = plt.subplots()
            ax.scatter(x, y)
            xs = torch.linspace(-2.1, 2.1, steps=100)
            with torch.no_grad():
                ax.plot(xs, mk_quad(*abc)(xs), "r")
            ax.set_title(f"loss: {losses[-1] if losses else loss.item():.2f}")
            path = os.path.join(out_dir, "quadratic_mae.png")
            fig.savefig(path)
            plt.close(fig)
            say(f"saved {path}")
    return {"losses": losses, "abc": (a, b, c)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=["cpp", "numpy"], default=None)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args(argv)
    ctx = torch.use_backend(args.backend) if args.backend else contextlib.nullcontext()
    with ctx:
        return run(steps=args.steps, plot=not args.no_plot)


if __name__ == "__main__":
    main()
