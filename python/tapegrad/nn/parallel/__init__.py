"""tapegrad.nn.parallel: DistributedDataParallel, over tapegrad.distributed (MPI)."""

from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
