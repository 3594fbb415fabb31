"""The README's "How fast" table, printed from one results.json so the README is one run's.

    python benchmarks/readme_table.py benchmarks/results/results.json
    python benchmarks/run.py --readme benchmarks/results/results.json   # the same

A figure the run lacks (a --groups subset, a peer not installed) prints as an empty cell.
"""

import json
import sys
from pathlib import Path

import guard

# (README label, threads, figure in results.json); a label starting "same, " reads the row above's
# eager step as PyTorch's and adds the ratio to our own eager step.
ROWS = [
    ("1-element `a + b` with grad", "1", "1-element a + b with grad"),
    ("small `backward()` (4 nodes)", "1", "small backward() (4 nodes)"),
    ("train step `Linear(1,1)`, 50 points, f32", "1", "train step Linear(1,1), 50 points, float32"),
    ("same, `tg.compile`", "1", "train step Linear(1,1), 50 points, float32, tg.compile"),
    ("train step `Linear(10,1)`+ReLU, batch 64", "1",
     "train step Linear(10,1)+ReLU, batch 64, float32"),
    ("train step MLP 784-256-10, batch 64, f32", "2",
     "train step MLP 784-256-10, batch 64, float32"),
    ("same, f16", "2", "train step MLP 784-256-10, batch 64, float16"),
    ("train step MLP 784-1024-1024-10, batch 256, f32", "2",
     "train step MLP 784-1024-1024-10, batch 256, float32"),
    ("GEMM f32 1024³", "1", "GEMM float32 1024x1024 @ 1024x1024"),
    ("GEMM f16 512³", "1", "GEMM float16 512x512 @ 512x512"),
    ("`tanh` f32, 1e7 elements", "1", "tanh float32, 1e+07 elements"),
    ("`add` f32, 1e7 elements", "1", "add float32, 1e+07 elements"),
    ("`import tapegrad` on top of NumPy (installed)", "1", "import time on top of NumPy"),
]  # fmt: skip
# The peers group: our step against each compiled peer, at 1 thread.
PEER_ROWS = [
    ("Linear(1,1), 50 points, f32", "peer step Linear(1,1), 50 points, float32"),
    ("MLP 784-256-10, batch 64, f32", "peer step MLP 784-256-10, batch 64, float32"),
    ("same, f16", "peer step MLP 784-256-10, batch 64, float16"),
    ("MLP 784-1024-1024-10, batch 256, f32", "peer step MLP 784-1024-1024-10, batch 256, float32"),
    ("LeNet-5, batch 64, f32", "peer step LeNet-5, batch 64, 28x28, float32"),
]


def value(x, unit):
    if x is None:
        return ""
    if unit == "µs" and x >= 10_000:
        x, unit = x / 1000, "ms"
    digits = 0 if x >= 100 else (1 if x >= 10 else 2)
    return f"{x:.{digits}f} {unit}"


def times(x):
    if x is None:
        return ""
    return f"{x:.{0 if x >= 100 else (1 if x >= 10 else 2)}f}×"


def table(results):
    by_figure = {t: {r["figure"]: r for r in rows} for t, rows in results["results"].items()}
    out = [
        "| figure | threads | tapegrad | PyTorch | NumPy | tapegrad vs PyTorch |",
        "|---|---|---|---|---|---|",
    ]
    for label, threads, figure in ROWS:
        r = by_figure.get(threads, {}).get(figure)
        if r is None:
            out.append(f"| {label} | {threads} | | | | |")
            continue
        v, unit, ratio = r["values"], r["unit"], guard.ratios(r)
        vs = times(ratio.get("torch"))
        if "tapegrad-eager" in ratio:
            vs += f" ({times(ratio['tapegrad-eager'])} our eager)"
        elif "numpy" in ratio and unit == "GFLOP/s":
            vs += f" ({times(ratio['numpy'])} NumPy)"
        torch = value(v.get("torch"), unit) + (" (eager)" if label.startswith("same, `tg") else "")
        row = [
            label,
            threads,
            value(v.get("tapegrad"), unit),
            torch,
            value(v.get("numpy"), unit),
            vs,
        ]
        out.append("| " + " | ".join(row) + " |")
    rows = [(label, by_figure.get("1", {}).get(figure)) for label, figure in PEER_ROWS]
    if any(r for _, r in rows):
        head = "| training step, 1 thread | tg.compile | torch.compile | jax.jit | mx.compile |"
        out += ["", head, "|---|---|---|---|---|"]
        for label, r in rows:
            v, ratio = (r["values"], guard.ratios(r)) if r else ({}, {})
            cells = [value(v.get("tapegrad-compile"), "µs")]
            for peer in ("torch-compile", "jax", "mlx"):
                cells.append(
                    f"{value(v.get(peer), 'µs')} ({times(ratio[peer])})" if peer in ratio else ""
                )
            out.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(out)


if __name__ == "__main__":
    print(table(json.loads(Path(sys.argv[1]).read_text())))
