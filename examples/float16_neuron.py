"""A single float16 neuron trained step by step: the "basics of neural networks" notebook.

torch.manual_seed(0), Linear(1, 1) converted to float16 with .half(), trained with MSE and
SGD(lr=0.1) on the single example x = 1.0, y = 1.0, printing a table of prediction, loss, weight,
bias and gradients per step in the tutorial's own layout (pandas' CSV form, no pandas needed).

tapegrad's generator reproduces PyTorch's, so the seeded Linear(1, 1) starts from the tutorial's
weights (-0.0075 and 0.5366 in float16) and the table matches the one the tutorial printed with
PyTorch, line for line; `--seed N` starts from another seed.

    python examples/float16_neuron.py [--backend {cpp,numpy}] [--steps N] [--seed N]
"""

import argparse
import contextlib

import tapegrad as torch

# The rows the tutorial printed with PyTorch (pandas' CSV form: index, then the columns).
TUTORIAL_HEADER = ",iteration,prediction,loss,weight,bias,weight_grad,bias_grad"
TUTORIAL_ROWS = [
    "0,0,0.529297,0.2215576,0.086609,0.630859,-0.941406,-0.941406",
    "1,1,0.717285,0.07995605,0.143066,0.6875,-0.56543,-0.56543",
    "2,2,0.830566,0.02870178,0.177002,0.721191,-0.338867,-0.338867",
    "3,3,0.898438,0.01031494,0.197266,0.741699,-0.203125,-0.203125",
    "4,4,0.938965,0.003725052,0.209473,0.753906,-0.12207,-0.12207",
    "5,5,0.963379,0.001340866,0.216797,0.76123,-0.073242,-0.073242",
    "6,6,0.978027,0.0004827976,0.221191,0.765625,-0.043945,-0.043945",
    "7,7,0.986816,0.0001738071,0.223877,0.768066,-0.026367,-0.026367",
    "8,8,0.992188,6.103516e-05,0.225464,0.769531,-0.015625,-0.015625",
    "9,9,0.995117,2.384186e-05,0.22644,0.770508,-0.009766,-0.009766",
]
COLUMNS = ("prediction", "loss", "weight", "bias", "weight_grad", "bias_grad")


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(1, 1)
        self.half()  # all parameters to float16

    def forward(self, x):
        x = x.half()  # the input too
        return self.linear(x)


def train_step(model, x, y):
    criterion = torch.nn.MSELoss()
    output = model(x)
    loss = criterion(output, y)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss.backward()
    optimizer.step()
    weight_grad = model.linear.weight.grad.item()
    bias_grad = model.linear.bias.grad.item()
    optimizer.zero_grad()
    return {
        "prediction": output.item(),
        "loss": loss.item(),
        "weight": model.linear.weight.data.item(),
        "bias": model.linear.bias.data.item(),
        "weight_grad": weight_grad,
        "bias_grad": bias_grad,
    }


def _fixed6(v):
    """Six decimals without trailing zeros, as the tutorial's table shows most columns."""
    text = f"{v:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def format_row(i, r):
    cells = [str(i), str(i), _fixed6(r["prediction"]), f"{r['loss']:.7g}"]
    cells += [_fixed6(r[c]) for c in ("weight", "bias", "weight_grad", "bias_grad")]
    return ",".join(cells)


def format_table(rows):
    return "\n".join([TUTORIAL_HEADER] + [format_row(i, r) for i, r in enumerate(rows)])


def compare_with_tutorial(rows):
    """(iteration, printed line, tutorial line) for each row that differs from the tutorial's."""
    return [
        (i, format_row(i, r), want)
        for i, (r, want) in enumerate(zip(rows, TUTORIAL_ROWS))
        if format_row(i, r) != want
    ]


def run(steps=20, seed=0, verbose=True):
    say = print if verbose else (lambda *a, **k: None)
    torch.manual_seed(seed)
    model = Model()
    say(f"{model=}")
    say("Model parameters:")
    for name, param in model.named_parameters():
        say(f"{name}: {param.data}")
    say(f"{model(torch.tensor([1.0]))=}")

    x = torch.tensor([1.0], dtype=torch.float16)
    y = torch.tensor([1.0], dtype=torch.float16)
    rows = [train_step(model, x, y) for _ in range(steps)]
    say(format_table(rows))
    result = {"rows": rows, "table": format_table(rows)}
    if seed == 0:
        bad = compare_with_tutorial(rows)
        n = min(len(rows), len(TUTORIAL_ROWS))
        if not bad:
            say(f"matches the tutorial's PyTorch table in all {n} printed rows")
        else:
            it, got, want = bad[0]
            say(f"differs from the tutorial's table at iteration {it}: {got} (tutorial: {want})")
        result["mismatches"] = bad
    return result


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=["cpp", "numpy"], default=None)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    ctx = torch.use_backend(args.backend) if args.backend else contextlib.nullcontext()
    with ctx:
        return run(steps=args.steps, seed=args.seed)


if __name__ == "__main__":
    main()
