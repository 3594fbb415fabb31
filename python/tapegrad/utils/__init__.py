"""`tapegrad.utils`: PyTorch's `torch.utils` names that tutorials use (`utils.data`,
`utils.hooks`)."""

from . import data, hooks

__all__ = ["data", "hooks"]
