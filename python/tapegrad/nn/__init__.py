"""tapegrad.nn: modules, parameters and losses with PyTorch's API."""

from . import functional
from .modules import (
    ELU,
    GELU,
    Dropout,
    Hardtanh,
    L1Loss,
    LeakyReLU,
    Linear,
    Module,
    MSELoss,
    Parameter,
    ReLU,
    ReLU6,
    Sequential,
    Sigmoid,
    SiLU,
    Softplus,
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
    "LeakyReLU",
    "ELU",
    "GELU",
    "SiLU",
    "Softplus",
    "Hardtanh",
    "ReLU6",
]
