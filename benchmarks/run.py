"""tapegrad's benchmark suite: one command, one run, every figure side by side with its peers.

    python benchmarks/run.py            # full run, 1 and 2 threads (several minutes)
    python benchmarks/run.py --quick    # small sizes, seconds (CI runs this so it cannot rot)

Each (thread count, peer) pair runs in a process of its own, so no thread pool spins against
another's, and each pool is sized before it starts (OMP/OPENBLAS/MKL_NUM_THREADS, and tapegrad's
set_num_threads). Results go to
--out (default benchmarks/results/) as results.json and results.md; the table is also printed.
Ratios are "how many times better than the peer" (time: peer / ours; throughput: ours / peer).
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEERS = ["tapegrad", "tapegrad-numpy", "numpy", "torch"]


def worker(args):
    sys.path.insert(0, str(HERE))
    import figures

    if args.peer == "torch":
        import torch

        torch.set_num_threads(args.threads)
    else:
        import tapegrad as tg

        tg.set_num_threads(args.threads)
        if args.peer == "tapegrad-numpy":
            tg.set_backend("numpy")
    rows = []
    for group in args.groups.split(","):
        t0 = time.perf_counter()
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
                index[r["figure"]]["values"].update(r["values"])
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
    for mod in ("numpy", "torch", "tapegrad"):
        try:
            versions[mod] = __import__(mod).__version__
        except ImportError:
            versions[mod] = None
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), **versions}


def ratio(r, peer):
    v = r["values"]
    if "tapegrad" not in v or peer not in v or not v[peer] or not v["tapegrad"]:
        return ""
    x = v["tapegrad"] / v[peer] if r["better"] == "higher" else v[peer] / v["tapegrad"]
    return f"{x:.2f}×"


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
        f"PyTorch {info['torch'] or 'not installed'}; {info['date']}.",
        "",
    ]
    for threads, rows in results.items():
        out += [
            f"**{threads} thread(s)**",
            "",
            "| figure | unit | tapegrad | tapegrad (NumPy ref) | NumPy | PyTorch "
            "| vs PyTorch | vs NumPy | vs tapegrad eager | target |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            v = r["values"]
            out.append(
                f"| {r['figure']} | {r['unit']} | "
                + " | ".join(fmt(v.get(p)) for p in PEERS)
                + f" | {ratio(r, 'torch')} | {ratio(r, 'numpy')} | {ratio(r, 'tapegrad-eager')}"
                + f" | {r.get('target', '')} |"
            )
        out.append("")
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    p.add_argument("--threads", default="1,2", help="thread counts to run (comma-separated)")
    p.add_argument(
        "--groups", default="overhead,gemm,elementwise,train,classify,double,cnn,ddp,import"
    )
    p.add_argument("--out", default=str(HERE / "results"))
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--peer", default="tapegrad", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        args.threads = int(args.threads)
        return worker(args)

    try:
        import torch  # noqa: F401

        peers = PEERS
    except ImportError:
        peers = [p for p in PEERS if p != "torch"]
    results = {}
    for t in [int(x) for x in args.threads.split(",")]:
        env = dict(os.environ)
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(t)
        parts = []
        for peer in peers:
            cmd = [sys.executable, __file__, "--worker", "--threads", str(t), "--peer", peer]
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


if __name__ == "__main__":
    sys.exit(main())
