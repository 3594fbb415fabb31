"""The thread pool: workers poll briefly for the next job, then block; OMP_WAIT_POLICY=passive
makes them block at once. Either way every job runs to the end with the same bits, with more
threads than cores too, and back-to-back jobs (which the poll exists for) neither hang nor lose
a chunk."""

import os
import subprocess
import sys

import pytest

PROGRAM = r"""
import hashlib
import numpy as np
import tapegrad as tg
F = tg.nn.functional
rng = np.random.default_rng(0)
x = tg.tensor(rng.standard_normal((64, 6, 28, 28)).astype(np.float32))
w = tg.tensor(rng.standard_normal((16, 6, 5, 5)).astype(np.float32))
a = tg.tensor(rng.standard_normal((300, 400)).astype(np.float32))
h = hashlib.sha256()
for threads in (1, 2, 3, 8):
    tg.set_num_threads(threads)
    for _ in range(200):  # back-to-back jobs: each starts while the workers still poll
        y = F.relu(x) * 2.0
    h.update(y.numpy().tobytes())
    h.update(F.max_pool2d(x, 2).numpy().tobytes())
    h.update(F.conv2d(x, w).numpy().tobytes())
    h.update((a @ a.t()).numpy().tobytes())
    h.update(x.half().sum(dim=(1, 2, 3)).numpy().tobytes())
print(h.hexdigest())
"""


def _digest(policy):
    env = dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    out = subprocess.run([sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True,
                         timeout=300)  # fmt: skip
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.mark.parametrize("policy", ["passive", "PASSIVE"])
def test_passive_waits_give_the_same_bits(policy):
    assert _digest(policy) == _digest(None)
