"""Where tapegrad's bits may differ from PyTorch's, and by how much: the only such list.

Each entry: a case-name pattern (fnmatch, as the cases_*.py modules name their cases) -> (the
largest difference allowed, in ulps of the result's dtype; where it applies: "simd" (the C++
core's AVX2 path), "portable" (TAPEGRAD_NO_SIMD=1), "numpy" (the reference backend), or a tuple
of these; why). docs/numerics.md explains every entry with its measured
figure, and a main-suite test checks that the two lists name the same patterns.
"""

import fnmatch

EXCEPTIONS = {}


def allowed_ulp(name, path):
    """(pattern, max ulp) of the first entry that covers case `name` on `path` ("cpp" is the
    SIMD path), else (None, 0)."""
    path = "simd" if path == "cpp" else path
    for pattern, (ulps, where, _why) in EXCEPTIONS.items():
        where = (where,) if isinstance(where, str) else where
        if path in where and fnmatch.fnmatchcase(name, pattern):
            return pattern, ulps
    return None, 0
