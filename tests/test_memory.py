"""Memory stays bounded: long loops whose resident set must not grow.

Each workload runs in a fresh subprocess (this file is also the worker: `python test_memory.py
WORKLOAD BACKEND`), so its RSS is not mixed with the rest of the suite's. After a warm-up (the
allocator cache, NumPy and the interpreter reach their steady state), the worker reads the RSS
from /proc/self/statm every 1/20 of the loop and reports the peak growth over the post-warm-up
baseline; the test asserts it stays under RSS_BOUND_MB.

  forward   100 000 forward passes through a model with requires_grad parameters, no backward
            (every pass builds a graph that nobody backpropagates: it must be freed with its
            tensors, no global list may grow)
  train     10 000 training steps (forward, backward, Adam step, zero_grad)
  retain    10 000 backward(retain_graph=True) calls, each on a fresh graph

The counts are those of docs/guarantees.md, on the cpp backend (where a leak would be a C++ bug);
the NumPy reference runs a tenth of them (pure Python, ~30x slower per step) so that the whole
file stays well under 30 s. The model is small for the same reason. Under the sanitizer build
(.ci/sanitize.sh sets TAPEGRAD_SANITIZED=1) ASan's quarantine holds freed memory on purpose
(capped at 16 MB there), so the bound there is ASAN_BOUND_MB.
"""

import json
import os
import re
import subprocess
import sys
import time

import pytest

RSS_BOUND_MB = 10.0
# .ci/sanitize.sh caps ASan's quarantine (freed memory it holds back on purpose) at 16 MB
ASAN_BOUND_MB = RSS_BOUND_MB + 16.0 + 14.0
COUNTS = {"forward": 100_000, "train": 10_000, "retain": 10_000}
WARMUP = {"forward": 5_000, "train": 1_000, "retain": 1_000}
SCALE = {"cpp": 1, "numpy": 10}  # the reference backend runs COUNTS / 10
SAMPLES = 20


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _workload(name, backend):
    import numpy as np
    import tapegrad as tg
    from tapegrad import nn, optim

    tg.set_backend(backend)
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 1))
    x = tg.tensor(np.linspace(-1, 1, 32 * 8, dtype=np.float32).reshape(32, 8))
    y = tg.tensor(np.linspace(0, 1, 32, dtype=np.float32).reshape(32, 1))
    loss_fn = nn.MSELoss()
    opt = optim.Adam(model.parameters(), lr=1e-3)

    if name == "forward":

        def step():
            return loss_fn(model(x), y)

    elif name == "train":

        def step():
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return loss

    elif name == "retain":
        w = tg.ones(8, 1, requires_grad=True)

        def step():
            h = (x @ w).tanh()
            loss = (h * h).mean()
            loss.backward(retain_graph=True)
            return loss

    else:
        raise ValueError(name)
    return step


def _run(name, backend):
    step = _workload(name, backend)
    n, warm = COUNTS[name] // SCALE[backend], WARMUP[name] // SCALE[backend]
    for _ in range(warm):
        step()
    base = rss_bytes()
    peak = base
    every = n // SAMPLES
    t0 = time.perf_counter()
    for i in range(n):
        step()
        if (i + 1) % every == 0:
            peak = max(peak, rss_bytes())
    seconds = time.perf_counter() - t0
    last = rss_bytes()
    return {
        "workload": name,
        "backend": backend,
        "count": n,
        "baseline_mb": base / 2**20,
        "peak_growth_mb": (peak - base) / 2**20,
        "final_growth_mb": (last - base) / 2**20,
        "seconds": seconds,
    }


@pytest.mark.parametrize("name", list(COUNTS))
def test_rss_stays_bounded(name, backend):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (os.path.dirname(
        os.path.dirname(__import__("tapegrad").__file__)), env.get("PYTHONPATH")) if p)  # fmt: skip
    r = subprocess.run(
        [sys.executable, __file__, name, backend],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert r.returncode == 0, f"worker failed ({r.returncode}):\n{r.stderr[-3000:]}"
    res = json.loads(r.stdout.strip().splitlines()[-1])
    bound = ASAN_BOUND_MB if os.environ.get("TAPEGRAD_SANITIZED") else RSS_BOUND_MB
    print(
        f"\n{name}/{backend}: {res['count']} iterations in {res['seconds']:.1f} s, "
        f"peak RSS growth {res['peak_growth_mb']:.2f} MB (bound {bound} MB)"
    )
    assert res["peak_growth_mb"] < bound, res


if __name__ == "__main__":
    print(json.dumps(_run(sys.argv[1], sys.argv[2])))


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.environ.get("TAPEGRAD_SANITIZED") == "1",
    reason="needs Linux's RLIMIT_AS (ASan reserves far more address space than the limit)",
)
@pytest.mark.parametrize("backend", ["cpp", "numpy"])
def test_an_allocation_that_fails_names_the_bytes(backend):
    # In a child limited to 3 GiB of address space, an 8 GB result cannot be allocated: the
    # error is a MemoryError naming the bytes, on both backends, and the process goes on.
    code = (
        "import resource; resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))\n"
        "import tapegrad as tg\n"
        f"tg.set_backend({backend!r})\n"
        "x = tg.ones(1).expand(2_000_000_000)\n"
        "for f in (lambda: x + 1, lambda: x.contiguous()):\n"
        "    try:\n"
        "        f()\n"
        "    except MemoryError as e:\n"
        "        print('MemoryError', e)\n"
        "print('alive', (tg.ones(3) + 1).tolist())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    lines = out.stdout.splitlines()
    assert out.returncode == 0, out.stderr
    assert len(lines) == 3 and lines[2] == "alive [2.0, 2.0, 2.0]", out.stdout
    for line in lines[:2]:
        assert line.startswith("MemoryError") and re.search(r"8000000000 bytes|7\.45 GiB", line)
