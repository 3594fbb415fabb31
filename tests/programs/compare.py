"""Run the beginner programs of this folder under PyTorch and under tapegrad, compare the output.

    python tests/programs/compare.py [-k NAME] [-v]

Each program runs twice, in fresh processes: `python PROGRAM` (PyTorch, one thread, its kernels
chosen to match tapegrad's active path as in tests/parity/run.py) and
`python -m tapegrad.as_torch PROGRAM` (unchanged, on tapegrad). The outputs are compared text
for text; the numbers in them as numbers. A program listed in CLOSE may differ in the last
digits, for the reason given there (docs/numerics.md); every other must print the same bytes.
Prints one line per program and the summary; exits 1 on any unexpected difference.
"""

import argparse
import glob
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# program -> (why its numbers may drift, the relative tolerance), never why it may fail. Each
# cause is a documented difference of docs/numerics.md: PyTorch's float32 exp, log, sin, tanh and
# sqrt are MKL's closed vector math, its float32 GELU oneDNN's.
_SIN = "torch.sin of the data is MKL's (1-2 ulp), and training carries it"
CLOSE = {
    "p02_numpy_style_poly": (_SIN, 1e-3),
    "p03_autograd_poly": (_SIN, 1e-3),
    "p04_nn_poly": (
        _SIN + "; RMSprop's sqrt is MKL's too, and its last steps oscillate (the loss jumps by "
        "2 % from step to step in both), which amplifies the last bits to a few percent",
        5e-2,
    ),
    "p05_custom_module": (_SIN, 1e-3),
    "p06_xor": (
        "nn.Linear's float32 addmm is MKL's gemm in PyTorch: at step 7 its order of adding the "
        "bias and the two products first differs, and 2,000 steps carry it",
        1e-3,
    ),
    "p12_mlp_charmodel": ("tanh is MKL's in PyTorch, and 500 SGD steps carry it", 1e-3),
    "p14_d2l_softmax_scratch": ("exp and log are MKL's in PyTorch", 1e-3),
    "p19_regression_mlp_adam": ("tanh and Adam's sqrt are MKL's in PyTorch", 1e-3),
    "p21_save_load": ("Adam's sqrt is MKL's in PyTorch", 1e-3),
    "p22_activations_losses": ("GELU is oneDNN's in PyTorch (1e-4 relative)", 1e-3),
    "p24_init_and_modulelist": ("Adagrad's sqrt is MKL's in PyTorch", 1e-3),
    "p26_hooks_and_grad": ("tanh is MKL's in PyTorch", 1e-3),
}
RTOL, ATOL = 1e-3, 1e-4
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf")


def programs(only=""):
    return sorted(p for p in glob.glob(os.path.join(HERE, "p[0-9]*.py")) if only in p)


def _env(extra):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONHASHSEED="0", **extra)
    return env


def run_pair(path, timeout=600):
    import tapegrad

    # PyTorch's AVX2 kernels pair with our SIMD path, its default ones with the portable path.
    cap = os.environ.get("ATEN_CPU_CAPABILITY") or (
        "avx2" if tapegrad._core.simd_enabled() else "default"
    )
    torch_run = subprocess.run([sys.executable, path], capture_output=True, text=True,
                               timeout=timeout, env=_env({"ATEN_CPU_CAPABILITY": cap}))  # fmt: skip
    ours = subprocess.run([sys.executable, "-m", "tapegrad.as_torch", path], capture_output=True,
                          text=True, timeout=timeout, env=_env({}))  # fmt: skip
    return torch_run, ours


ADDRESS = re.compile(r" object at 0x[0-9a-f]+>")


def compare(expected, got, rtol=RTOL):
    """(verdict, worst relative difference): 'same', 'close' or a line saying what differs.
    Objects' addresses (`<AddBackward0 object at 0x...>`) are not compared."""
    expected, got = ADDRESS.sub(" object at 0x>", expected), ADDRESS.sub(" object at 0x>", got)
    if expected == got:
        return "same", 0.0
    e_lines, g_lines = expected.splitlines(), got.splitlines()
    if len(e_lines) != len(g_lines):
        return f"{len(g_lines)} lines where PyTorch printed {len(e_lines)}", None
    worst = 0.0
    for i, (a, b) in enumerate(zip(e_lines, g_lines)):
        if NUMBER.sub("#", a) != NUMBER.sub("#", b):
            return f"line {i + 1}: {b!r} where PyTorch printed {a!r}", None
        for x, y in zip(NUMBER.findall(a), NUMBER.findall(b)):
            fx, fy = float(x), float(y)
            if fx == fy or (fx != fx and fy != fy):
                continue
            diff = abs(fx - fy)
            if diff > rtol * max(abs(fx), abs(fy)) + ATOL:
                return f"line {i + 1}: {y} where PyTorch printed {x}", None
            worst = max(worst, diff / max(abs(fx), abs(fy)))
    return "close", worst


def check(path):
    """(ok, line to report) for one program."""
    name = os.path.basename(path)[:-3]
    torch_run, ours = run_pair(path)
    if torch_run.returncode != 0:
        return False, f"{name}: PyTorch itself failed: {torch_run.stderr.strip()[-300:]}"
    if ours.returncode != 0:
        return False, f"{name}: FAILS: {ours.stderr.strip().splitlines()[-1][:300]}"
    why, rtol = CLOSE.get(name, (None, RTOL))
    verdict, worst = compare(torch_run.stdout, ours.stdout, rtol)
    if verdict == "same":
        return True, f"{name}: same output"
    if verdict == "close":
        if why:
            return True, f"{name}: close (max rel diff {worst:.1e}; {why})"
        return False, f"{name}: DIFFERS (max rel diff {worst:.1e}), not listed in CLOSE"
    return False, f"{name}: DIFFERS: {verdict[:300]}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", default="", help="only programs whose name contains this")
    args = ap.parse_args()
    results = [check(p) for p in programs(args.k)]
    for _, line in results:
        print(line)
    same = sum(line.endswith("same output") for _, line in results)
    ok = sum(r for r, _ in results)
    print(f"{len(results)} programs: {same} print the same output, {ok - same} close "
          f"(documented), {len(results) - ok} unexpected")  # fmt: skip
    return 0 if ok == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
