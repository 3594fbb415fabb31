"""`tapegrad.utils`: PyTorch's `torch.utils` names that tutorials use (`utils.data`)."""

from . import data

__all__ = ["data"]
