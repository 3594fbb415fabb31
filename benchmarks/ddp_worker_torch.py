"""PyTorch's side of the data-parallel benchmark: the same MLP 784-256-10 step as ddp_worker.py,
in torch.nn.parallel.DistributedDataParallel over PyTorch's gloo backend (its CPU backend), one
thread per process, global batch 128 split over the ranks. The processes are started by
torch.multiprocessing and meet over TCP on 127.0.0.1. Prints one JSON line: {"steps_per_s": ...}.

    python benchmarks/ddp_worker_torch.py RANKS [--steps 200] [--repeats 3]
"""

import argparse
import json
import socket
import time

GLOBAL_BATCH = 128


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank(rank, world, port, steps, repeats, queue):
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world
    )
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10)
    )
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.randn(GLOBAL_BATCH // world, 784)
    y = torch.randint(0, 10, (GLOBAL_BATCH // world,))
    for _ in range(20):  # warm-up (also DDP's bucket rebuild)
        opt.zero_grad()
        loss_fn(ddp(x), y).backward()
        opt.step()
    best = 0.0
    for _ in range(repeats):
        dist.barrier()
        t0 = time.perf_counter()
        for _ in range(steps):
            opt.zero_grad()
            loss_fn(ddp(x), y).backward()
            opt.step()
        best = max(best, steps / (time.perf_counter() - t0))
    if rank == 0:
        queue.put(best)
    dist.barrier()  # leave together: gloo torn down under a busy peer can std::terminate
    dist.destroy_process_group()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ranks", type=int)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    import torch.multiprocessing as mp

    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    port = _free_port()
    procs = [
        ctx.Process(target=_rank, args=(r, args.ranks, port, args.steps, args.repeats, queue))
        for r in range(args.ranks)
    ]
    for p in procs:
        p.start()
    result = queue.get(timeout=600)
    for p in procs:
        p.join()
    print(json.dumps({"steps_per_s": result}), flush=True)


if __name__ == "__main__":
    main()
