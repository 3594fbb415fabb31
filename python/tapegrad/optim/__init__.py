"""tapegrad.optim: SGD and Adam with PyTorch's API; the update kernels run in the backend.
`tapegrad.optim.lr_scheduler` has the learning-rate schedulers."""

from . import lr_scheduler
from .adam import Adam
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "lr_scheduler"]
