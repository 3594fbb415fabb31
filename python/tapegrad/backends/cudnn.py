"""`tapegrad.backends.cudnn`: the flags PyTorch scripts set for reproducibility. tapegrad has no
cuDNN, so they change nothing; they exist so that `torch.backends.cudnn.deterministic = True`
runs."""

enabled = True
benchmark = False
deterministic = False


def is_available():
    return False
