"""The learning-rate schedules recorded from PyTorch (golden/make_lr_golden.py) and replayed on
tapegrad (test_lr_scheduler.py): one function runs a case with either library."""

import math

STEPS = 60
METRICS = [1.0 / (1 + k) if k < 20 else 0.05 + 0.001 * math.sin(k) for k in range(STEPS)]


def _sched(T, name, opt):
    S = T.optim.lr_scheduler
    kind, _, args = name.partition(":")
    if kind == "step":
        return S.StepLR(opt, step_size=7, gamma=0.3)
    if kind == "multistep":
        return S.MultiStepLR(opt, milestones=[5, 12, 12, 40], gamma=0.5)
    if kind == "exponential":
        return S.ExponentialLR(opt, gamma=0.93)
    if kind == "cosine":
        return S.CosineAnnealingLR(opt, T_max=int(args), eta_min=0.001)
    if kind == "lambda":
        return S.LambdaLR(opt, lr_lambda=lambda e: 0.97**e / (1 + 0.1 * e))
    if kind == "lambdas":
        return S.LambdaLR(opt, lr_lambda=[lambda e: 1 / (e + 1), lambda e: 0.9**e])
    if kind == "plateau":
        mode, thr_mode, cooldown = args.split(",")
        return S.ReduceLROnPlateau(
            opt, mode=mode, factor=0.5, patience=3, threshold=1e-3,
            threshold_mode=thr_mode, cooldown=int(cooldown), min_lr=[0.003, 0.001],
        )  # fmt: skip
    raise ValueError(name)


CASES = (
    "step", "multistep", "exponential", "cosine:10", "cosine:25", "lambda", "lambdas",
    "plateau:min,rel,0", "plateau:min,abs,2", "plateau:max,rel,1", "plateau:max,abs,0",
)  # fmt: skip


def run(T, name):
    """The lrs of both groups after construction and after each of STEPS steps."""
    w1 = T.zeros(3, requires_grad=True)
    w2 = T.zeros(2, requires_grad=True)
    opt = T.optim.SGD([{"params": [w1]}, {"params": [w2], "lr": 0.05}], lr=0.1)
    sched = _sched(T, name, opt)
    lrs = [g["lr"] for g in opt.param_groups]
    for k in range(STEPS):
        opt.step()
        if name.startswith("plateau"):
            m = METRICS[k]
            sched.step(-m if ":max" in name else m)
        else:
            sched.step()
        lrs += [g["lr"] for g in opt.param_groups]
    return lrs
