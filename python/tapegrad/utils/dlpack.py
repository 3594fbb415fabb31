"""`tapegrad.utils.dlpack`: PyTorch's `torch.utils.dlpack` (`from_dlpack`, `to_dlpack`,
`DLDeviceType`)."""

from .._dlpack import DLDeviceType, from_dlpack, to_dlpack

__all__ = ["DLDeviceType", "from_dlpack", "to_dlpack"]
