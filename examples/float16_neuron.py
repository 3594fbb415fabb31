"""A single float16 neuron trained step by step: the "basics of neural networks" notebook.

Linear(1, 1) converted to float16 with .half(), trained with MSE and SGD(lr=0.1) on the single
example x = 1.0, y = 1.0, printing a table of prediction, loss, weight, bias and gradients per
step (plain formatting, no pandas).

By default the neuron starts from the tutorial's own starting weights (weight -0.0075, bias
0.5366 in float16), so the table can be compared line by line with the one the tutorial printed
with PyTorch; `--init random` uses tapegrad's own random init instead.

    python examples/float16_neuron.py [--backend {cpp,numpy}] [--steps N] [--init {tutorial,random}]
"""

import argparse
import contextlib

import tapegrad as torch

# Starting weights that reproduce the tutorial's first row (its printout shows -0.0075 / 0.5366).
TUTORIAL_WEIGHT = -0.00750732421875
TUTORIAL_BIAS = 0.53662109375

# The table the tutorial printed with PyTorch (iteration, prediction, loss, weight, bias,
# weight_grad, bias_grad), as shown there (6 significant digits).
TUTORIAL_TABLE = [
    (0, 0.529297, 0.2215576, 0.086609, 0.630859, -0.941406, -0.941406),
    (1, 0.717285, 0.07995605, 0.143066, 0.6875, -0.56543, -0.56543),
    (2, 0.830566, 0.02870178, 0.177002, 0.721191, -0.338867, -0.338867),
    (3, 0.898438, 0.01031494, 0.197266, 0.741699, -0.203125, -0.203125),
    (4, 0.938965, 0.003725052, 0.209473, 0.753906, -0.12207, -0.12207),
    (5, 0.963379, 0.001340866, 0.216797, 0.76123, -0.073242, -0.073242),
    (6, 0.978027, 0.0004827976, 0.221191, 0.765625, -0.043945, -0.043945),
    (7, 0.986816, 0.0001738071, 0.223877, 0.768066, -0.026367, -0.026367),
    (8, 0.992188, 6.103516e-05, 0.225464, 0.769531, -0.015625, -0.015625),
    (9, 0.995117, 2.384186e-05, 0.22644, 0.770508, -0.009766, -0.009766),
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


def format_table(rows):
    head = f"{'iteration':>9}" + "".join(f"{c:>14}" for c in COLUMNS)
    lines = [head]
    for i, r in enumerate(rows):
        lines.append(f"{i:>9}" + "".join(f"{r[c]:>14.7g}" for c in COLUMNS))
    return "\n".join(lines)


def compare_with_tutorial(rows):
    """Row indices where a value differs from the tutorial's printout (beyond its 6 digits)."""
    bad = []
    for row, ref in zip(rows, TUTORIAL_TABLE):
        for c, want in zip(COLUMNS, ref[1:]):
            got = row[c]
            if abs(got - want) > 6e-5 * abs(want):  # the printout keeps 6-7 digits
                bad.append((ref[0], c, got, want))
    return bad


def run(steps=20, init="tutorial", seed=0, verbose=True):
    say = print if verbose else (lambda *a, **k: None)
    torch.manual_seed(seed)
    model = Model()
    if init == "tutorial":
        with torch.no_grad():
            model.linear.weight.copy_(torch.tensor([[TUTORIAL_WEIGHT]], dtype=torch.float16))
            model.linear.bias.copy_(torch.tensor([TUTORIAL_BIAS], dtype=torch.float16))
    say(f"{model=}")
    say("Model parameters:")
    for name, param in model.named_parameters():
        say(f"{name}: {param.data}")
    say(f"{model(torch.tensor([1.0]))=}")

    x = torch.tensor([1.0], dtype=torch.float16)
    y = torch.tensor([1.0], dtype=torch.float16)
    rows = [train_step(model, x, y) for _ in range(steps)]
    say(format_table(rows))
    result = {"rows": rows}
    if init == "tutorial":
        bad = compare_with_tutorial(rows)
        n = min(len(rows), len(TUTORIAL_TABLE))
        if not bad:
            say(f"matches the tutorial's PyTorch table in all {n} printed rows")
        else:
            it, col, got, want = bad[0]
            say(
                f"differs from the tutorial's table: iteration {it} {col} = {got!r}, "
                f"tutorial {want}"
            )
        result["mismatches"] = bad
    return result


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=["cpp", "numpy"], default=None)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--init", choices=["tutorial", "random"], default="tutorial")
    args = ap.parse_args(argv)
    ctx = torch.use_backend(args.backend) if args.backend else contextlib.nullcontext()
    with ctx:
        return run(steps=args.steps, init=args.init)


if __name__ == "__main__":
    main()
