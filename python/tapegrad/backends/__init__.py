"""The backends: `cpp` (the C++ core) and `numpy` (the NumPy reference). See docs/backends.md.

`mps` and `cudnn` answer PyTorch's `torch.backends.mps` / `torch.backends.cudnn` (no GPU)."""

from . import cudnn as cudnn
from . import mps as mps
