"""Write tests/golden/torch_data.json: PyTorch's answers for every case of
tests/parity/cases_data.py (devices, legacy names, collation, DataLoader batches and the
generator state after them), so that tests/test_data_golden.py can replay them without PyTorch.

Needs PyTorch (CPU). Run once with PyTorch's AVX2 kernels and commit the JSON:

    ATEN_CPU_CAPABILITY=avx2 python tests/golden/make_data_golden.py
"""

import os

import make_factories_golden as recorder

HERE = os.path.dirname(os.path.abspath(__file__))

if __name__ == "__main__":
    recorder.CASES = os.path.join(HERE, "..", "parity", "cases_data.py")
    recorder.OUT = os.path.join(HERE, "torch_data.json")
    recorder.main()
