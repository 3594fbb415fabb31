"""tapegrad.nn: modules, parameters and losses with PyTorch's API."""

from . import functional
from .modules import (
    Dropout,
    L1Loss,
    Linear,
    Module,
    MSELoss,
    Parameter,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)

__all__ = [
    "functional",
    "Module",
    "Parameter",
    "Linear",
    "Dropout",
    "Sequential",
    "ReLU",
    "Tanh",
    "Sigmoid",
    "MSELoss",
    "L1Loss",
]
