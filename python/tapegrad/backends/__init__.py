"""The backends: `cpp` (the C++ core) and `numpy` (the NumPy reference). See docs/backends.md."""
