"""One rank of the data-parallel benchmark (figures_ddp.py launches it; it also runs alone):

    mpiexec -n 2 python benchmarks/ddp_worker.py [--steps 200] [--repeats 3]

An MLP 784-256-10 in DistributedDataParallel, global batch 128 split evenly over the ranks
(synthetic data, the same batch every step), CrossEntropyLoss, SGD with momentum, one thread per
rank. Two bucket layouts: DDP's default caps (this model's 0.8 MB of gradients make one bucket) and
a cap small enough for two or three buckets, so that the first bucket's allreduce can run while the
first layer's gradients are still being computed. And the bare model without DDP, each rank on its
share and nothing exchanged: the step rate the ranks' computation alone allows. Rank 0 prints one
JSON line.

Timing without touching the library: the reducer's methods are wrapped, and its communicator is
behind a proxy that times its MPI calls. Per step (ms): `backward` is all of `loss.backward()`;
`comm` the time inside the reducer's MPI calls (starting nonblocking allreduces, the blocking one
of the last bucket, `Wait`s and the `Testall`s that move collectives along); `pack` and `unpack`
the copies into and out of the buckets; `window` the time from the first nonblocking allreduce's
start to the reducer's finish, and `overlap` that window less the reducer's own work in it:
backward's computation that ran while an allreduce was in flight. Each is the mean over the
ranks; `comm_least_rank` is the least comm time of any rank (the rank that arrives last at an
allreduce waits only for the transfer, the others also for it). `allreduce_ms` alone: the best
blocking Allreduce of the same 0.8 MB.
"""

import argparse
import json
import sys
import time

import numpy as np
import tapegrad as tg
import tapegrad.distributed as dist
import tapegrad.nn as nn
from tapegrad.nn.parallel import DistributedDataParallel
from tapegrad.nn.parallel._reducer import Reducer

GLOBAL_BATCH = 128
# Gradients arrive as b2, W2 (10 KiB together), then b1 and W1: a 5 KiB cap closes the first
# bucket after the second layer, then b1 and W1 get one each.
SMALL_CAP_MB = 5 / 1024


class Probe:
    """Per-step times (seconds), filled in by the wrapped reducer."""

    def reset(self):
        self.first_nb = None  # when the first nonblocking allreduce started
        self.buckets = 0
        self.comm = self.launch = self.finish = self.busy_after = 0.0
        self.finish_at = None


PROBE = Probe()


def _add_comm(seconds):
    PROBE.comm += seconds
    if PROBE.first_nb is not None:
        PROBE.busy_after += seconds


class TimedComm:
    """The reducer's communicator, with its allreduce calls timed."""

    def __init__(self, comm):
        self._comm = comm

    def __getattr__(self, name):
        return getattr(self._comm, name)

    def Iallreduce(self, *args):
        t0 = time.perf_counter()
        req = self._comm.Iallreduce(*args)
        if PROBE.first_nb is None:
            PROBE.first_nb = t0
        PROBE.comm += time.perf_counter() - t0
        return req

    def Allreduce(self, *args):
        t0 = time.perf_counter()
        self._comm.Allreduce(*args)
        _add_comm(time.perf_counter() - t0)


def _wrap_reducer():
    launch, finish, progress = Reducer._launch, Reducer._finish, Reducer._progress

    def timed_launch(self, bucket, last):
        t0 = time.perf_counter()
        after = PROBE.first_nb is not None
        comm0 = PROBE.comm
        PROBE.buckets += 1
        launch(self, bucket, last)
        took = time.perf_counter() - t0
        PROBE.launch += took - (PROBE.comm - comm0)  # the packing
        if after:
            PROBE.busy_after += took - (PROBE.comm - comm0)

    def timed_finish(self):
        t0 = PROBE.finish_at = time.perf_counter()
        for b in self.buckets:
            if b.work is not None:
                w0 = time.perf_counter()
                b.work.Wait()  # leaves a null request: the original's Wait returns at once
                PROBE.comm += time.perf_counter() - w0
        c0 = PROBE.comm
        finish(self)
        PROBE.finish += time.perf_counter() - t0 - (PROBE.comm - c0)

    def timed_progress(self):
        t0 = time.perf_counter()
        progress(self)
        if PROBE.first_nb is not None:  # before it, no allreduce is in flight to test
            _add_comm(time.perf_counter() - t0)

    Reducer._launch, Reducer._finish, Reducer._progress = timed_launch, timed_finish, timed_progress


def _allreduce_alone(repeats=50):
    """Best seconds of one blocking in-place Allreduce of the model's gradients' size."""
    from mpi4py import MPI

    buf = np.ones(784 * 256 + 256 + 256 * 10 + 10, np.float32)
    comm = MPI.COMM_WORLD
    best = float("inf")
    for _ in range(repeats):
        comm.Barrier()
        t0 = time.perf_counter()
        comm.Allreduce(MPI.IN_PLACE, buf, MPI.SUM)
        best = min(best, time.perf_counter() - t0)
    return best


def _run(cap_mb, steps, warmup, repeats, rank, world):
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    if cap_mb == "none":  # the bare model: each rank's computation without any communication
        ddp = model
    else:
        if cap_mb == "view":
            ddp = DistributedDataParallel(model, gradient_as_bucket_view=True)
        else:
            ddp = DistributedDataParallel(model, bucket_cap_mb=cap_mb)
        ddp._reducer.comm = TimedComm(ddp._reducer.comm)
    opt = tg.optim.SGD(ddp.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(rank)
    local = GLOBAL_BATCH // world
    x = tg.tensor(rng.standard_normal((local, 784)).astype(np.float32))
    y = tg.tensor(rng.integers(0, 10, local).astype(np.int64))
    sums = {}

    def step(record):
        PROBE.reset()
        opt.zero_grad()
        loss = loss_fn(ddp(x), y)
        t0 = time.perf_counter()
        loss.backward()
        t1 = time.perf_counter()
        opt.step()
        if record:
            p = PROBE
            window = (p.finish_at - p.first_nb) if p.first_nb is not None else 0.0
            parts = {"backward": t1 - t0}
            if p.finish_at is not None:
                parts.update(
                    comm=p.comm,
                    pack=p.launch,
                    unpack=p.finish,
                    window=window,
                    overlap=max(window - p.busy_after, 0.0),
                )
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + v
        return PROBE.buckets

    for _ in range(warmup):  # the first steps also rebuild the buckets in arrival order
        buckets = step(False)
    runs = []
    for _ in range(repeats):
        sums.clear()
        dist.barrier()
        t0 = time.perf_counter()
        for _ in range(steps):
            step(True)
        runs.append((time.perf_counter() - t0, dict(sums)))
    # The fastest repeat by rank 0's clock, the same repeat on every rank. Rank 0's clock speaks
    # for the step rate (every rank's loop ends in the same allreduces); the per-step times are
    # the ranks' mean, and the least wait of any rank is kept too: the rank that arrives last
    # waits for the allreduce alone, the others also for it.
    from mpi4py import MPI

    pick = MPI.COMM_WORLD.bcast(min(range(repeats), key=lambda i: runs[i][0]), root=0)
    took, sums = runs[pick]
    mine = {k + "_ms": v / steps * 1e3 for k, v in sums.items()}
    every = MPI.COMM_WORLD.allgather(mine)
    out = {"steps_per_s": steps / took, "buckets": buckets}
    out.update({k: float(np.mean([r[k] for r in every])) for k in mine})
    if "comm_ms" in mine:
        out["comm_least_rank_ms"] = min(r["comm_ms"] for r in every)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200, help="timed steps per repeat")
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3, help="the fastest repeat is reported")
    ap.add_argument("--threads", type=int, default=1, help="threads per rank")
    args = ap.parse_args(argv)
    tg.set_num_threads(args.threads)
    dist.init_process_group(backend="mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    if GLOBAL_BATCH % world:
        raise ValueError(f"the global batch {GLOBAL_BATCH} does not split over {world} ranks")
    _wrap_reducer()
    result = {"ranks": world, "threads": tg.get_num_threads()}
    result["allreduce_ms"] = _allreduce_alone() * 1e3
    layouts = (("default", None), ("small", SMALL_CAP_MB), ("view", "view"), ("no_ddp", "none"))
    for name, cap in layouts:
        result[name] = _run(cap, args.steps, args.warmup, args.repeats, rank, world)
    if rank == 0:
        print(json.dumps(result), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())
