"""tapegrad.optim: SGD, Adam, AdamW, RMSprop and Adagrad with PyTorch's API; the update kernels
run in the backend. `tapegrad.optim.lr_scheduler` has the learning-rate schedulers."""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam
from .adamw import AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler"]
