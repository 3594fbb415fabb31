"""`python -m tapegrad.as_torch program.py`: an unchanged PyTorch program imports tapegrad."""

import os
import subprocess
import sys
import textwrap

import tapegrad as tg

_PKG_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(tg.__file__)))


def _run(tmp_path, text, *args):
    prog = tmp_path / "program.py"
    prog.write_text(textwrap.dedent(text))
    env = dict(os.environ, PYTHONPATH=_PKG_PARENT)
    return subprocess.run([sys.executable, "-m", "tapegrad.as_torch", str(prog), *args],
                          capture_output=True, text=True, env=env, timeout=120)  # fmt: skip


def test_imports_of_torch_get_tapegrad(tmp_path):
    (tmp_path / "helper_mod.py").write_text("VALUE = 7\n")
    res = _run(tmp_path, """
        import sys
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        from torch import optim
        import helper_mod  # the program's own folder is on sys.path, as with `python program.py`
        print(torch.__name__, nn.__name__, F.__name__, optim.__name__, helper_mod.VALUE)
        print(sys.argv[1:], __name__)
        print(F.relu(torch.tensor([-1.0, 2.0])).tolist())
        """, "a", "b")  # fmt: skip
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "tapegrad tapegrad.nn tapegrad.nn.functional tapegrad.optim 7"
    assert lines[1] == "['a', 'b'] __main__"
    assert lines[2] == "[0.0, 2.0]"


def test_a_missing_torch_module_says_so_at_the_import(tmp_path):
    res = _run(tmp_path, "import torch.distributions.no_such_thing\n")
    assert res.returncode == 1
    assert "No module named 'torch.distributions" in res.stderr
    assert "tapegrad has no tapegrad.distributions" in res.stderr


def test_errors_inside_tapegrad_modules_are_not_hidden(tmp_path):
    res = _run(tmp_path, "import torch\nraise SystemExit(torch.tensor([1, 2]).sum().item())\n")
    assert res.returncode == 3, res.stderr


def test_no_arguments_prints_usage():
    env = dict(os.environ, PYTHONPATH=_PKG_PARENT)
    res = subprocess.run([sys.executable, "-m", "tapegrad.as_torch"], capture_output=True,
                         text=True, env=env, timeout=60)  # fmt: skip
    assert res.returncode == 2 and "python -m tapegrad.as_torch program.py" in res.stdout
