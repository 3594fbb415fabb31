"""tapegrad.linalg: PyTorch's torch.linalg, the vector norms (_ops_norm.py)."""

from ._ops_norm import linalg_norm as norm
from ._ops_norm import vector_norm

__all__ = ["norm", "vector_norm"]
