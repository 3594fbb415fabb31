"""`python -m tapegrad`: the first thing to run.

Trains the linear regression of the tutorials (y = 2x + 1 + noise, nn.Linear(1, 1), MSE, SGD) on
the C++ backend and on the NumPy reference from the same data and the same starting weights,
prints the loss every 10th epoch, the learned w and b, and the time per training step on each
backend; saves a fit/loss plot when matplotlib is installed.
"""

import argparse
import sys
import time

import numpy as np

import tapegrad as tg
from tapegrad import _backend

TRUE_W, TRUE_B = 2.0, 1.0


def _data(n=50, seed=0):
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 2.0, n, dtype=np.float32)[:, None]
    y = (TRUE_W * x + TRUE_B + rng.normal(0.0, 0.3, (n, 1))).astype(np.float32)
    return x, y


class _Progress:
    """One status line; on a terminal it updates in place, elsewhere it prints start and end."""

    def __init__(self, label):
        self.label = label
        self.tty = sys.stderr.isatty()
        self.shown = -1
        sys.stdout.flush()
        sys.stderr.write(f"  {label} ..." + ("" if self.tty else "\n"))
        sys.stderr.flush()

    def update(self, frac):
        pct = int(frac * 100)
        if self.tty and pct != self.shown:
            self.shown = pct
            sys.stderr.write(f"\r  {self.label} ... {pct:3d}%")
            sys.stderr.flush()

    def done(self, note=""):
        if self.tty:
            sys.stderr.write(f"\r  {self.label} ... done{note}\n")
        sys.stderr.flush()


def _train(be_name, x_np, y_np, epochs, lr, seed):
    with tg.use_backend(be_name):
        tg.manual_seed(seed)  # same stream -> the same starting weights on both backends
        model = tg.nn.Linear(1, 1)
        x, y = tg.tensor(x_np), tg.tensor(y_np)
        w0, b0 = model.weight.item(), model.bias.item()
        opt = tg.optim.SGD(model.parameters(), lr=lr)
        loss_fn = tg.nn.MSELoss()
        losses = []
        for _ in range(epochs):
            loss = loss_fn(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        with tg.no_grad():
            fit = model(x).numpy().copy()
        return {
            "losses": losses,
            "w": model.weight.item(),
            "b": model.bias.item(),
            "w0": w0,
            "b0": b0,
            "fit": fit,
        }


def _time_steps(be_name, x_np, y_np, lr, budget_s, progress):
    """Seconds per training step (forward, loss, zero_grad, backward, SGD step)."""
    with tg.use_backend(be_name):
        model = tg.nn.Linear(1, 1)
        x, y = tg.tensor(x_np), tg.tensor(y_np)
        opt = tg.optim.SGD(model.parameters(), lr=lr)
        loss_fn = tg.nn.MSELoss()

        def step():
            loss = loss_fn(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()

        for _ in range(20):  # warm up
            step()
        best = float("inf")
        start = time.perf_counter()
        n = 50
        while True:
            t0 = time.perf_counter()
            for _ in range(n):
                step()
            best = min(best, (time.perf_counter() - t0) / n)
            elapsed = time.perf_counter() - start
            progress.update(min(1.0, elapsed / budget_s))
            if elapsed >= budget_s:
                return best


def _fmt_time(s):
    if s < 1e-3:
        return f"{s * 1e6:.1f} us"
    return f"{s * 1e3:.2f} ms"


def _plot(path, x, y, results):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(
            "\nplot: matplotlib is not installed. `pip install matplotlib` to get the fit/loss "
            f"plot ({path})."
        )
        return None
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.scatter(x[:, 0], y[:, 0], s=12, label="data")
    for name, r in results.items():
        ax1.plot(x[:, 0], r["fit"][:, 0], label=f"{name}: y = {r['w']:.3f} x + {r['b']:.3f}")
        ax2.plot(range(1, len(r["losses"]) + 1), r["losses"], label=name)
    ax1.set_xlabel("x")
    ax1.set_ylabel("y")
    ax1.legend()
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("MSE loss")
    ax2.set_yscale("log")
    ax2.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    print(f"\nplot: saved {path}")
    return path


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tapegrad", description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--lr", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time", type=float, default=0.5, help="seconds of timing per backend")
    ap.add_argument("--plot", default="tapegrad_demo.png", help="where to save the plot")
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args(argv)

    print(f"tapegrad {tg.__version__}: linear regression, y = {TRUE_W:g}x + {TRUE_B:g} + noise")
    print("  nn.Linear(1, 1), nn.MSELoss(), optim.SGD(lr=" + f"{args.lr:g}), 50 points, float32\n")

    backends = []
    cpp_error = None
    try:
        _backend.load("cpp")
        backends.append("cpp")
    except ImportError as e:
        cpp_error = e
        print("cpp backend: NOT AVAILABLE. Running the NumPy reference only.")
        print(f"  ImportError: {e}\n")
    backends.append("numpy")

    x, y = _data(seed=args.seed)
    results = {b: _train(b, x, y, args.epochs, args.lr, args.seed) for b in backends}

    names = list(results)
    head = f"{'epoch':>6}" + "".join(f"{'loss (' + n + ')':>18}" for n in names)
    print(head)
    for e in range(10, args.epochs + 1, 10):
        print(f"{e:>6}" + "".join(f"{results[n]['losses'][e - 1]:>18.6f}" for n in names))
    print()
    w_ls, b_ls = np.polyfit(x[:, 0].astype(np.float64), y[:, 0].astype(np.float64), 1)
    for n in names:
        r = results[n]
        print(
            f"{n:>6}: learned w = {r['w']:.4f}, b = {r['b']:.4f}   "
            f"(start w = {r['w0']:.4f}, b = {r['b0']:.4f})"
        )
    print(f"{'':>6}  least squares: w = {w_ls:.4f}, b = {b_ls:.4f}; the truth: w = 2, b = 1")
    if len(names) == 2:
        a, b = results["cpp"], results["numpy"]
        dl = max(abs(p - q) for p, q in zip(a["losses"], b["losses"]))
        print(f"{'':>6}  the two backends' losses differ by at most {dl:.2e}")

    print("\ntime per training step (forward + loss + zero_grad + backward + SGD step):")
    times = {}
    for n in names:
        label = "cpp (C++ core)" if n == "cpp" else "numpy (the NumPy reference)"
        prog = _Progress(f"timing {label}")
        times[n] = _time_steps(n, x, y, args.lr, args.time, prog)
        prog.done()
    for n in names:
        print(f"  {n:>6}: {_fmt_time(times[n])}")
    if "cpp" in times:
        print(f"  cpp is {times['numpy'] / times['cpp']:.1f}x faster than the NumPy reference")

    if not args.no_plot:
        _plot(args.plot, x, y, results)

    if cpp_error is not None:
        print(
            "\nThe C++ backend did not load (see the ImportError above); only the NumPy "
            "reference ran."
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
