"""Modules: PyTorch's `nn.Module` API over tapegrad tensors (no kernels here).

module.py holds `Module` (with its state dict in state_dict.py), parameter.py `Parameter` and
layers.py the layers.
"""

from .activation_ewise import ELU, GELU, Hardtanh, LeakyReLU, ReLU6, SiLU, Softplus
from .containers import ModuleDict, ModuleList, ParameterDict, ParameterList  # noqa: E402
from .layers import Dropout, L1Loss, Linear, MSELoss, ReLU, Sequential, Sigmoid, Tanh
from .losses import BCELoss, BCEWithLogitsLoss, HuberLoss, SmoothL1Loss
from .module import Module
from .nnloss import (  # noqa: E402
    CrossEntropyLoss,
    Embedding,
    Flatten,
    Identity,
    LogSoftmax,
    NLLLoss,
    Softmax,
    Unflatten,
)
from .parameter import Parameter

# isort: split
# the CNN layers (conv.py, pooling.py, normalization.py; Dropout2d in layers.py).
from .conv import Conv1d, Conv2d  # noqa: E402
from .layers import Dropout2d  # noqa: E402
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, LayerNorm  # noqa: E402
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d  # noqa: E402

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "SmoothL1Loss",
    "HuberLoss",
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
    "ModuleList",
    "ModuleDict",
    "ParameterList",
    "ParameterDict",
    "Softmax",
    "LogSoftmax",
    "Flatten",
    "Unflatten",
    "Identity",
    "Embedding",
    "CrossEntropyLoss",
    "NLLLoss",
]

__all__ += ["Conv1d", "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"]
__all__ += ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "Dropout2d"]
