"""`tapegrad.utils`: PyTorch's `torch.utils` names that tutorials use (`utils.data`,
`utils.hooks`, `utils.dlpack`), and `progress`, the progress bar of `step.run` and the examples."""

from . import data, dlpack, hooks
from ._progress import progress

__all__ = ["data", "dlpack", "hooks", "progress"]
