"""`torch.utils.hooks` names: the handle that hook registrations return."""

from .._handles import RemovableHandle

__all__ = ["RemovableHandle"]
