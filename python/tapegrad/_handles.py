"""`RemovableHandle`: what `register_hook` and the module hook functions hand back."""

import itertools

_ids = itertools.count()


class RemovableHandle:
    """Removes its hook from the dict it was put in, once (`.remove()`, or leaving a `with`)."""

    def __init__(self, hooks_dict):
        self._dict = hooks_dict
        self.id = next(_ids)

    def remove(self):
        """Remove the hook; calling it again does nothing."""
        d = self._dict
        if d is not None:
            d.pop(self.id, None)
            self._dict = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
