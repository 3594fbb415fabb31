"""tapegrad's benchmark suite: one command, one run, every figure side by side with its peers.

    python benchmarks/run.py            # full run, 1 and 2 threads (several minutes)
    python benchmarks/run.py --quick    # small sizes, seconds (CI runs this so it cannot rot)

Each (thread count, peer) pair runs in a process of its own, so no thread pool spins against
another's, and each pool is sized before it starts (OMP/OPENBLAS/MKL_NUM_THREADS, and tapegrad's
set_num_threads). Results go to
--out (default benchmarks/results/) as results.json and results.md; the table is also printed.
Ratios are "how many times better than the peer" (time: peer / ours; throughput: ours / peer).

The "peers" group (figures_peers.py) adds torch.compile, jax.jit and mx.compile when they are
installed. At each thread count every peer's process is pinned to the same CPUs (the first N the
run may use), so no peer gets a core the others do not.

    python benchmarks/run.py --compare OLD/results.json   # exit 1 if a ratio fell > 10 %
    python benchmarks/run.py --readme results.json        # the README's "How fast" rows
"""

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import guard

HERE = Path(__file__).resolve().parent
PEERS = ["tapegrad", "tapegrad-numpy", "numpy", "torch"]
# Peers that only run the "peers" group, each when its library is installed.
OPTIONAL = {"torch-compile": "torch", "jax": "jax", "mlx": "mlx.core"}


def worker(args):
    # Pinned before any import: a thread takes its CPU set from the thread that starts it, and
    # NumPy's BLAS starts its pool when imported.
    everywhere = os.sched_getaffinity(0)
    if args.cpus:
        os.sched_setaffinity(0, [int(c) for c in args.cpus.split(",")])
    sys.path.insert(0, str(HERE))
    import figures
    import figures_peers

    os.environ.update(figures_peers.thread_env(args.peer, args.threads))
    groups = args.groups.split(",")
    if args.peer in OPTIONAL:
        try:
            lib = __import__(OPTIONAL[args.peer], fromlist=["_"])
        except ImportError as exc:  # installed but not loadable (MLX without its CPU build)
            print(f"  [{args.threads}T {args.peer}] not run: {exc}", file=sys.stderr)
            return json.dump([], sys.stdout)
        if args.peer == "torch-compile":
            lib.set_num_threads(args.threads)
        groups = [g for g in args.groups.split(",") if g == "peers"]
    elif args.peer == "torch":
        import torch

        torch.set_num_threads(args.threads)
    else:
        import tapegrad as tg

        tg.set_num_threads(args.threads)
        if args.peer == "tapegrad-numpy":
            tg.set_backend("numpy")
    rows = []
    for group in groups:
        t0 = time.perf_counter()
        if group == "ddp":  # it binds its MPI ranks to cores itself
            pinned = os.sched_getaffinity(0)
            os.sched_setaffinity(0, everywhere)
            rows += figures.ALL[group](args.quick, args.peer)
            os.sched_setaffinity(0, pinned)
        elif group == "peers":
            rows += figures_peers.peers(args.quick, args.peer)
        else:
            rows += figures.ALL[group](args.quick, args.peer)
        took = time.perf_counter() - t0
        print(f"  [{args.threads}T {args.peer}] {group}: {took:.1f} s", file=sys.stderr)
    json.dump(rows, sys.stdout)


def merge(parts):
    """Rows of the same figure from the peers' processes, in first-seen order."""
    rows, index = [], {}
    for part in parts:
        for r in part:
            if r["figure"] in index:
                for key in ("values", "compile", "notes"):
                    if key in r:
                        index[r["figure"]].setdefault(key, {}).update(r[key])
            else:
                index[r["figure"]] = r
                rows.append(r)
    return rows


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for mod in ("numpy", "torch", "tapegrad", "jax", "mlx.core"):
        try:
            versions[mod.split(".")[0]] = __import__(mod, fromlist=["_"]).__version__
        except ImportError:
            versions[mod.split(".")[0]] = None
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), **versions}


def ratio(r, peer):
    x = guard.ratios(r).get(peer)
    return f"{x:.2f}×" if x else ""


def fmt(x):
    if x is None:
        return ""
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def markdown(results, info):
    out = [
        f"Machine: {info['cpu']}, {info['cores']} cores; Python {info['python']}, "
        f"NumPy {info['numpy']}, "
        f"PyTorch {info['torch'] or 'not installed'}, JAX {info.get('jax') or 'not installed'}, "
        f"MLX {info.get('mlx') or 'not installed'}; {info['date']}.",
        "",
    ]
    for threads, rows in results.items():
        out += [f"**{threads} thread(s)**", ""]
        if all(r.get("table") == "peers" for r in rows):
            out += peer_table(rows)
            continue
        out += [
            "| figure | unit | tapegrad | tapegrad (NumPy ref) | NumPy | PyTorch "
            "| vs PyTorch | vs NumPy | vs tapegrad eager | target |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            v = r["values"]
            if r.get("table") == "peers":
                continue
            out.append(
                f"| {r['figure']} | {r['unit']} | "
                + " | ".join(fmt(v.get(p)) for p in PEERS)
                + f" | {ratio(r, 'torch')} | {ratio(r, 'numpy')} | {ratio(r, 'tapegrad-eager')}"
                + f" | {r.get('target', '')} |"
            )
        out += [""] + peer_table([r for r in rows if r.get("table") == "peers"])
    return "\n".join(out)


# (value key, column heading, ratio heading) of the peers table
PEER_COLUMNS = [
    ("tapegrad", "tapegrad", None),
    ("tapegrad-compile", "tg.compile", None),
    ("torch", "PyTorch", "vs PyTorch"),
    ("torch-compile", "torch.compile", "vs torch.compile"),
    ("jax", "jax.jit", "vs jax.jit"),
    ("mlx", "mx.compile", "vs mx.compile"),
    ("numpy", "NumPy", "vs NumPy"),
]


def peer_table(rows):
    """The peers group as its own table: µs per step, ratios, first-call seconds and footnotes."""
    if not rows:
        return []
    cols = [c for c in PEER_COLUMNS if any(c[0] in r["values"] or c[0] in r.get("notes", {})
                                           for r in rows)]  # fmt: skip
    heads = [c[1] for c in cols] + [c[2] for c in cols if c[2]]
    out = ["| training step, µs | " + " | ".join(heads) + " |", "|---" * (len(heads) + 1) + "|"]
    notes = []
    for r in rows:
        cells = []
        for key, _, _ in cols:
            cell = fmt(r["values"].get(key))
            if key in r.get("notes", {}):
                notes.append(f"{key}, {r['figure']}: {r['notes'][key]}")
                cell += f" [{len(notes)}]"
            cells.append(cell)
        cells += [ratio(r, key) for key, _, vs in cols if vs]
        out.append(f"| {r['figure'].removeprefix('peer step ')} | " + " | ".join(cells) + " |")
    compiled = [c for c in cols if any(c[0] in r.get("compile", {}) for r in rows)]
    if compiled:
        out += ["", "First call of the compiled steps (tracing and compilation), s:", ""]
        out += ["| step | " + " | ".join(c[1] for c in compiled) + " |"]
        out += ["|---" * (len(compiled) + 1) + "|"]
        for r in rows:
            c = r.get("compile", {})
            cells = [f"{c[k]:.3g}" if k in c else "" for k, _, _ in compiled]
            out.append(f"| {r['figure'].removeprefix('peer step ')} | " + " | ".join(cells) + " |")
    out += [""] + [f"[{i}] {n}" for i, n in enumerate(notes, 1)] + ([""] if notes else [])
    return out


def main():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    p.add_argument("--threads", default="1,2", help="thread counts to run (comma-separated)")
    p.add_argument(
        "--groups", default="overhead,gemm,elementwise,train,classify,double,cnn,ddp,import,peers"
    )
    p.add_argument("--compare", metavar="BASELINE", help="results.json to guard ratios against")
    p.add_argument("--compare-warn-only", action="store_true", help="flag, but exit 0")
    p.add_argument("--readme", metavar="RESULTS", help="print the README table of a results.json")
    p.add_argument("--out", default=str(HERE / "results"))
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--peer", default="tapegrad", help=argparse.SUPPRESS)
    p.add_argument("--cpus", default="", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.readme:
        import readme_table

        return print(readme_table.table(json.loads(Path(args.readme).read_text())))
    if args.worker:
        args.threads = int(args.threads)
        return worker(args)

    try:
        import torch  # noqa: F401

        peers = list(PEERS)  # the optional peers join this list, not the table's columns
    except ImportError:
        peers = [p for p in PEERS if p != "torch"]
    if "peers" in args.groups.split(","):
        optional = [p for p, mod in OPTIONAL.items() if importlib.util.find_spec(mod.split(".")[0])]
        # --quick leaves torch.compile out: it compiles for tens of seconds per model
        peers += [p for p in optional if not (args.quick and p == "torch-compile")]
    cpus = sorted(os.sched_getaffinity(0))
    results = {}
    for t in [int(x) for x in args.threads.split(",")]:
        env = dict(os.environ)
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(t)
        parts = []
        for peer in peers:
            cmd = [sys.executable, __file__, "--worker", "--threads", str(t), "--peer", peer]
            cmd += ["--cpus", ",".join(str(c) for c in cpus[:t])]
            cmd += ["--groups", args.groups] + (["--quick"] if args.quick else [])
            proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, check=True)
            parts.append(json.loads(proc.stdout))
        results[str(t)] = merge(parts)
    info = machine()
    info["date"] = time.strftime("%Y-%m-%d")
    info["quick"] = args.quick
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps({"machine": info, "results": results}, indent=1))
    md = markdown(results, info)
    (out / "results.md").write_text(md)
    print(md)
    if args.compare:
        return guard.check({"machine": info, "results": results}, args.compare,
                             warn_only=args.compare_warn_only)  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
