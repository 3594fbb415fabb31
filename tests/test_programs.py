"""The beginner programs of tests/programs/, under PyTorch and under tapegrad-as-torch: the same
output (tests/programs/compare.py says how they are compared). Needs torch: CI runs it in the
parity lane, after torch is installed."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "programs"))
import compare  # noqa: E402

pytest.importorskip("torch")


@pytest.mark.parametrize("path", compare.programs(), ids=lambda p: os.path.basename(p)[:-3])
def test_program_prints_what_pytorch_prints(path):
    ok, line = compare.check(path)
    assert ok, line


def test_close_lists_only_programs_that_exist():
    names = {os.path.basename(p)[:-3] for p in compare.programs()}
    assert set(compare.CLOSE) <= names
