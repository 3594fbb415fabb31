"""The seeds PyTorch's data loading draws: `torch.empty((), dtype=torch.int64).random_()`, one
64-bit draw kept below 2**63."""

from ... import _random
from ..._dtype import int64
from ..._random_dist import random_


def draw_seed(generator):
    """Draw one seed as PyTorch's data loading does,
    `torch.empty((), dtype=torch.int64).random_(generator=generator)`: a Python int in [0,
    2**63), from `generator` or the default generator (None)."""
    return int(random_((), int64, None, None, _random._gen(generator)))
