"""The parity lane: tapegrad against PyTorch 2.13 (CPU), bit for bit.

    python tests/parity/run.py [-k SUBSTRING] [-v] [--json FILE]

Every `tests/parity/cases_*.py` module has a `cases()` generator of `(name, fn)` pairs. `fn(T)`
runs once with `T = torch` and once with `T = tapegrad`; it builds its inputs from NumPy (or
from `T.manual_seed`) and returns a tensor, a number or a list of them. The two answers must have
the same dtypes, shapes and bits (a NaN matches any NaN: its sign and payload are not part of
what PyTorch promises). A case listed in `exceptions.py` may differ by at most its documented
ulp; docs/numerics.md explains each entry.

PyTorch picks its kernels by CPU capability, and so does tapegrad. tapegrad's SIMD path is
written to PyTorch's AVX2 kernels and its portable path (TAPEGRAD_NO_SIMD=1) to PyTorch's scalar
`default` kernels, so this script starts PyTorch with the matching ATEN_CPU_CAPABILITY (unless
it is already set) and runs both single-threaded: above 32768 elements PyTorch's reductions split
by its thread count.

Exit status 1 when a case differs outside the exception table, or when the two libraries disagree
about raising.
"""

import argparse
import glob
import importlib.util
import json
import os
import sys
import time

import numpy as np
import tapegrad  # before torch: the capability below must be set when torch loads

HERE = os.path.dirname(os.path.abspath(__file__))
NO_SIMD = not tapegrad._core.simd_enabled()  # TAPEGRAD_NO_SIMD=1, or a CPU without AVX2
os.environ.setdefault("ATEN_CPU_CAPABILITY", "default" if NO_SIMD else "avx2")

import torch  # noqa: E402

sys.path.insert(0, HERE)
from exceptions import EXCEPTIONS, allowed  # noqa: E402


def load_modules(only=None):
    mods = []
    for path in sorted(glob.glob(os.path.join(HERE, "cases_*.py"))):
        name = os.path.splitext(os.path.basename(path))[0]
        if only and name not in only:
            continue
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        mods.append(mod)
    return mods


def flatten(out):
    if isinstance(out, (list, tuple)):
        return [leaf for item in out for leaf in flatten(item)]
    return [out]


def as_array(x):
    """A tensor or number as (kind, NumPy array); tensors keep their dtype."""
    if x is None:
        return "none", None
    if hasattr(x, "detach") and hasattr(x, "dtype"):
        return "tensor", x.detach().numpy().copy()
    if isinstance(x, bool):
        return "bool", np.array(x)
    if isinstance(x, int):
        return "int", np.array(x, np.int64)
    if isinstance(x, float):
        return "float", np.array(x, np.float64)
    raise TypeError(f"a case returned {type(x).__name__}; return tensors or numbers")


def _ordered(a):
    """Float bits mapped to integers that count ulps (-0 and +0 both map to 0)."""
    ints = {2: np.int16, 4: np.int32, 8: np.int64}[a.dtype.itemsize]
    i = a.view(ints).astype(np.int64)
    magnitude = np.int64((1 << (8 * a.dtype.itemsize - 1)) - 1)
    return np.where(i < 0, -(i & magnitude), i)


def ulp_distance(a, b):
    """Largest distance in ulps between equal-shaped float arrays (NaN equals NaN; a NaN against
    a number, or a mismatch in integers, counts as infinitely far)."""
    if a.dtype.kind != "f":
        return 0 if np.array_equal(a, b) else float("inf")
    na, nb = np.isnan(a), np.isnan(b)
    if (na != nb).any():
        return float("inf")
    keep = ~na
    if not keep.any():
        return 0
    return int(np.abs(_ordered(a[keep]) - _ordered(b[keep])).max())


def norm_distance(want, got):
    """Largest difference in ulps of the result's largest finite magnitude: the measure for
    results with cancellation (a matmul, a sum), where an element near 0 is many ulps of itself
    away while the error is tiny against the terms."""
    if want.dtype.kind != "f":
        return 0 if np.array_equal(want, got) else float("inf")
    w, g = want.astype(np.float64), got.astype(np.float64)
    fin = np.isfinite(w) & np.isfinite(g)
    if (np.isfinite(w) != np.isfinite(g)).any() or (w[~fin] != g[~fin]).any():
        if (
            not np.array_equal(np.isnan(w), np.isnan(g))
            or (w[~fin & ~np.isnan(w)] != g[~fin & ~np.isnan(g)]).any()
        ):
            return float("inf")
    if not fin.any():
        return 0
    scale = np.abs(w[fin]).max()
    unit = (
        float(np.spacing(want.dtype.type(scale)))
        if scale
        else float(np.spacing(want.dtype.type(0)))
    )
    return float(np.abs(w[fin] - g[fin]).max() / unit)


def _same_bits(aw, ag):
    if aw.dtype.kind != "f":
        return np.array_equal(aw, ag)
    nw, ng = np.isnan(aw), np.isnan(ag)
    u = f"u{aw.itemsize}"
    return np.array_equal(nw, ng) and np.array_equal(aw[~nw].view(u), ag[~ng].view(u))


def compare(want, got):
    """None when equal to the bit; else (reason, measures): measures {"ulp": .., "norm": ..} for
    a difference in values, None for a structural mismatch."""
    if len(want) != len(got):
        return f"{len(got)} results, torch gave {len(want)}", None
    worst = {"ulp": 0, "norm": 0.0}
    for i, (w, g) in enumerate(zip(want, got)):
        (kw, aw), (kg, ag) = as_array(w), as_array(g)
        if kw == "none" or kg == "none":
            if kw != kg:
                return f"result {i}: {kg}, torch gave {kw}", None
            continue
        if kw != kg and not (kw in ("int", "float", "bool") and kg in ("int", "float", "bool")):
            return f"result {i}: a {kg}, torch gave a {kw}", None
        if aw.dtype != ag.dtype:
            return f"result {i}: dtype {ag.dtype}, torch gave {aw.dtype}", None
        if aw.shape != ag.shape:
            return f"result {i}: shape {ag.shape}, torch gave {aw.shape}", None
        if not _same_bits(aw, ag):
            # -0 against +0 is 0 ulps apart on the ordered line: count it as one
            worst["ulp"] = max(worst["ulp"], ulp_distance(aw, ag), 1)
            worst["norm"] = max(worst["norm"], norm_distance(aw, ag))
    if worst["ulp"] == 0:
        return None
    return "differs", worst


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-k", default="", help="run only cases whose name contains this")
    ap.add_argument("-v", action="store_true", help="list every differing case")
    ap.add_argument("--json", help="write every non-exact case here")
    ap.add_argument("--module", action="append", help="only this cases_* module")
    ap.add_argument("--backend", default="cpp", help="tapegrad's backend (cpp or numpy)")
    args = ap.parse_args(argv)

    torch.set_num_threads(1)
    tapegrad.set_num_threads(1)
    tapegrad.set_backend(args.backend)
    cap = torch.backends.cpu.get_cpu_capability()
    path = "portable path" if NO_SIMD else "SIMD path"
    if args.backend != "cpp":
        path = f"{args.backend} backend"
    print(f"parity: torch {torch.__version__} ({cap} kernels) against tapegrad's {path}")
    want_cap = "DEFAULT" if NO_SIMD else "AVX2"
    if cap != want_cap:
        note = f"torch runs its {cap} kernels; tapegrad's bits follow its {want_cap} ones"
        print(
            f"parity: {note} (unset ATEN_CPU_CAPABILITY to let this script choose)", file=sys.stderr
        )
    if torch.__version__.split("+")[0] != "2.13.0":
        print("parity: the goldens and exceptions are for torch 2.13.0", file=sys.stderr)

    counts = {"cases": 0, "exact": 0, "documented": 0, "errors_both": 0}
    worst = {}  # exception pattern -> max ulp seen
    bad, records = [], []
    t0 = time.time()
    for mod in load_modules(args.module):
        for name, fn in mod.cases():
            if args.k not in name:
                continue
            counts["cases"] += 1
            try:
                want, werr = fn(torch), None
            except Exception as e:  # noqa: BLE001 - a case may test an error
                want, werr = None, e
            try:
                got, gerr = fn(tapegrad), None
            except Exception as e:  # noqa: BLE001
                got, gerr = None, e
            if werr or gerr:
                if werr and gerr:
                    counts["errors_both"] += 1
                    counts["exact"] += 1
                    continue
                which = f"torch raised {werr!r}" if werr else f"tapegrad raised {gerr!r}"
                bad.append((name, which))
                continue
            try:
                verdict = compare(flatten(want), flatten(got))
            except Exception as e:  # noqa: BLE001
                bad.append((name, f"could not compare: {e!r}"))
                continue
            if verdict is None:
                counts["exact"] += 1
                continue
            reason, dist = verdict
            records.append({"case": name, "reason": reason, **(dist or {})})
            pattern, limit, metric = allowed(name, "portable" if NO_SIMD else args.backend)
            if pattern is not None and dist is not None and dist[metric] <= limit:
                counts["documented"] += 1
                worst[pattern] = max(worst.get(pattern, 0), dist[metric])
                if args.v:
                    print(f"  documented  {name}: {dist[metric]:g} ({metric})")
                continue
            if dist is not None:
                reason = f"{dist['ulp']} ulp (normwise {dist['norm']:.3g})"
            bad.append((name, reason))

    for name, why in bad:
        print(f"  DIFFERS  {name}: {why}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(records, f, indent=1)
    n, exact, doc = counts["cases"], counts["exact"], counts["documented"]
    print(f"parity: {n} cases compared in {time.time() - t0:.0f} s")
    print(f"parity: {exact} bit-exact ({100.0 * exact / max(n, 1):.2f} %)")
    if worst:
        print(f"parity: {doc} within a documented exception (docs/numerics.md):")
        for row, d in sorted(worst.items()):
            pattern, limit, metric = EXCEPTIONS[row][:3]
            unit = "ulp" if metric == "ulp" else "normwise ulp"
            print(f"    {pattern}: max {d:g} {unit} (documented limit {limit:g})")
    print(f"parity: {len(bad)} unexpected")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
