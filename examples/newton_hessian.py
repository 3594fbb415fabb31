"""Newton's method with `autograd.functional.hessian` and `jacobian`: the Rosenbrock function in
2-D from the classic start (-1.2, 1), and a logistic regression (its loss is convex, so Newton's
steps converge quadratically: the gradient's norm roughly squares each iteration).

Each step solves H d = g (NumPy's solve on the small Hessian) and moves x -= d; float64 throughout.

    python examples/newton_hessian.py [--backend {cpp,numpy}] [--iters N]
"""

import argparse
import contextlib

import numpy as np
import tapegrad as torch
from tapegrad.autograd.functional import hessian, jacobian


def rosenbrock(p):
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def newton(f, x, iters, say, tol=1e-10):
    """Newton's iterations on f from x; a list of (f(x), |grad f(x)|) per iteration."""
    trace = []
    for it in range(iters + 1):
        g = jacobian(f, x)
        value, gnorm = f(x).item(), g.norm().item()
        trace.append((value, gnorm))
        say(f"  iter {it:2d}  f = {value:.12e}  |grad| = {gnorm:.3e}")
        if gnorm < tol or it == iters:
            break
        h = hessian(f, x)
        step = np.linalg.solve(h.numpy(), g.numpy())
        x = x - torch.tensor(step)
    return x, trace


def logistic_data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    features = rng.standard_normal((n, 3))
    true_w = np.array([1.5, -2.0, 0.5])
    p = 1 / (1 + np.exp(-(features @ true_w + 0.3)))
    labels = (rng.random(n) < p).astype(np.float64)
    return torch.tensor(features), torch.tensor(labels)


def run(iters=20, verbose=True):
    say = print if verbose else (lambda *a, **k: None)
    say("Rosenbrock (minimum 0 at (1, 1)), Newton from (-1.2, 1):")
    p, rosen = newton(rosenbrock, torch.tensor([-1.2, 1.0], dtype=torch.float64), iters, say)
    say(f"  x = {p.tolist()}")

    features, labels = logistic_data()

    def nll(w):  # mean negative log-likelihood, w = (3 weights, bias)
        z = (features * w[:3]).sum(1) + w[3]
        return (torch.nn.functional.softplus(z) - labels * z).mean()

    say("logistic regression (4 parameters, 200 points), Newton from 0:")
    w, logit = newton(nll, torch.zeros(4, dtype=torch.float64), iters, say)
    say(f"  w = {[round(v, 4) for v in w.tolist()]}")
    return {"rosenbrock": rosen, "point": p.tolist(), "logistic": logit, "weights": w.tolist()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=["cpp", "numpy"], default=None)
    ap.add_argument("--iters", type=int, default=20)
    args = ap.parse_args(argv)
    ctx = torch.use_backend(args.backend) if args.backend else contextlib.nullcontext()
    with ctx:
        return run(iters=args.iters)


if __name__ == "__main__":
    main()
