"""See beneath the function calls: the tanh neuron's tape, its graph, and backward step by step.

The neuron of the micrograd-style tutorial (examples/tanh_neuron.py): f(x) = w1*x1 + w2*x2 + b with
x1 = 7, x2 = 3 and Y = tanh(f). This script prints the tape the forward pass recorded, writes the
graph as an SVG picture (micrograd's draw_dot, built in), runs backward one node at a time,
printing what each node receives and sends on, and checks the result against loss.backward()
and against finite differences (gradcheck). docs/how-backward-works.md walks through the output.

tapegrad only: record_values, tape, backward_steps and tg.viz have no PyTorch counterpart (the
other examples also run with `import torch`).

    python examples/see_backward.py [--backend {cpp,numpy}] [--out neuron.svg] [--seed N]
"""

import argparse
import contextlib
import random

import tapegrad as tg


def build(seed=1):
    """The tutorial's neuron; returns (Y, names). Values recorded for the picture and tape."""
    rnd = random.Random(seed)
    x1, x2 = tg.tensor(7.0), tg.tensor(3.0)
    # small weights keep tanh out of saturation, so the gradients are readable
    w1, w2, b = (tg.tensor(rnd.uniform(-0.5, 0.5), requires_grad=True) for _ in range(3))
    with tg.autograd.record_values():  # keep every intermediate value for tape() and draw()
        fx = x1 * w1 + x2 * w2 + b
        Y = fx.tanh()
    return Y, {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b}


def run(out="neuron.svg", seed=1, verbose=True):
    say = print if verbose else (lambda *a, **k: None)
    Y, names = build(seed)
    params = {k: names[k] for k in ("w1", "w2", "b")}

    say("== the tape (what the forward pass recorded) ==")
    say(tg.autograd.tape(Y, names=names))

    drawing = tg.viz.draw(Y, names=names, title="Y = tanh(w1*x1 + w2*x2 + b)")
    drawing.save(out)
    say(f"\n== the graph: {out} ==")

    say("\n== backward, one node at a time ==")
    for step in tg.autograd.backward_steps(Y, names=names):
        say(step)
    stepwise = {k: p.grad.item() for k, p in params.items()}

    for p in params.values():
        p.grad = None
    Y.backward()
    same = all(params[k].grad.item() == v for k, v in stepwise.items())
    say(f"\nsame .grad as Y.backward(): {same}")

    dY = 1 - Y.item() ** 2
    say(
        f"by hand: dY/dw1 = (1 - Y**2) * x1 = {dY * 7:.6f}, autograd {params['w1'].grad.item():.6f}"
    )

    ok = tg.autograd.gradcheck(
        lambda w1, w2, b: (7.0 * w1 + 3.0 * w2 + b).tanh(),
        tuple(params[k].detach().requires_grad_() for k in ("w1", "w2", "b")),
    )
    say(f"gradcheck against float64 finite differences: {ok}")
    return {"Y": Y.item(), "grads": stepwise, "same_as_backward": same, "gradcheck": ok,
            "svg": out, "ops": [e.op for e in tg.autograd.tape(Y)]}  # fmt: skip


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=["cpp", "numpy"], default=None)
    ap.add_argument("--out", default="neuron.svg")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    ctx = tg.use_backend(args.backend) if args.backend else contextlib.nullcontext()
    with ctx:
        return run(out=args.out, seed=args.seed)


if __name__ == "__main__":
    main()
