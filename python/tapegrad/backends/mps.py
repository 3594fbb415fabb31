"""`tapegrad.backends.mps`: Apple's GPU is never available to tapegrad (CPU only)."""


def is_available():
    return False


def is_built():
    return False
