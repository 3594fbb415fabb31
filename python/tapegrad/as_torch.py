"""Run an unchanged PyTorch program on tapegrad: `python -m tapegrad.as_torch program.py [args]`.

The program's `import torch`, `import torch.nn as nn`, `from torch.utils.data import DataLoader`
get tapegrad's modules of the same names. A `torch.X` that tapegrad does not have fails at the
import with a ModuleNotFoundError that says so, rather than somewhere later.

`install()` does the same inside a running interpreter (before the program imports torch).
"""

import importlib
import importlib.abc
import importlib.machinery
import os
import runpy
import sys


class _Existing(importlib.abc.Loader):
    def __init__(self, module):
        self.module = module

    def create_module(self, spec):
        return self.module

    def exec_module(self, module):
        pass


class _TorchAlias(importlib.abc.MetaPathFinder):
    """Answers imports of `torch` and `torch.*` with `tapegrad` and `tapegrad.*`."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "torch" and not fullname.startswith("torch."):
            return None
        ours = "tapegrad" + fullname[len("torch") :]
        try:
            module = importlib.import_module(ours)
        except ModuleNotFoundError as e:
            if e.name != ours and not ours.startswith(e.name + "."):
                raise
            raise ModuleNotFoundError(
                f"No module named {fullname!r}: tapegrad has no {ours} (see docs/api.md for "
                "what it supports)",
                name=fullname,
            ) from None
        return importlib.machinery.ModuleSpec(fullname, _Existing(module))


def install():
    """Make `import torch...` import tapegrad from now on in this interpreter."""
    if not any(isinstance(f, _TorchAlias) for f in sys.meta_path):
        sys.meta_path.insert(0, _TorchAlias())
    for name in [n for n in sys.modules if n == "torch" or n.startswith("torch.")]:
        del sys.modules[name]  # a real torch imported earlier must not shadow the alias


def main(argv=None):
    """Run the program `argv[0]` (by default the command line's) with its arguments, `import torch`
    answered by tapegrad; returns the exit status (2 when no program is named)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    install()
    sys.argv = argv
    sys.path[0] = os.path.dirname(os.path.abspath(argv[0]))  # as `python program.py` sets it
    runpy.run_path(argv[0], run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
