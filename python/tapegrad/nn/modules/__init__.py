"""Modules: PyTorch's `nn.Module` API over tapegrad tensors (no kernels here).

module.py holds `Module` (with its state dict in state_dict.py), parameter.py `Parameter` and
layers.py the layers.
"""

from .activation_ewise import ELU, GELU, Hardtanh, LeakyReLU, ReLU6, SiLU, Softplus
from .layers import Dropout, L1Loss, Linear, MSELoss, ReLU, Sequential, Sigmoid, Tanh
from .module import Module
from .parameter import Parameter

__all__ = [
    "Parameter",
    "Module",
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
