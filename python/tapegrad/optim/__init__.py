"""tapegrad.optim: SGD and Adam with PyTorch's API; the update kernels run in the backend."""

from .adam import Adam
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam"]
