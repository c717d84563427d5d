"""Chong et al.'s comparison: Deep SVDD without and with bias terms, and with each collapse regularizer, at two learning rates (BatchNorm)."""

from deepad.detectors.papers import Arm, PaperPlan


def _chong_arms() -> tuple[Arm, ...]:
    arms = []
    for lr in (1e-4, 1e-2):
        tag = f"lr {lr:g}"
        base = {"lr": lr, "batchnorm": True}
        arms += [Arm(f"D. SVDD, {tag}", "deep-svdd", {**base, "bias": False}),
                 Arm(f"w/ bias, {tag}", "deep-svdd", {**base, "bias": True}),
                 Arm(f"w/ bias + noise reg., {tag}", "deep-svdd", {**base, "bias": True, "reg": "noise"},
                     beats=(f"w/ bias, {tag}",)),
                 Arm(f"w/ bias + σ² reg., {tag}", "deep-svdd", {**base, "bias": True, "reg": "variance"},
                     beats=(f"w/ bias, {tag}",))]
    return tuple(arms)


PLAN = PaperPlan(
    "000", "Chong et al.", "deep-svdd", "Chong et al.: bias terms and the collapse regularizers (Deep SVDD, BatchNorm)",
    {}, _chong_arms(),
    note="The paper reports no MNIST numbers; its claim is the direction: the noise and the variance "
         "regularizer keep a network with bias terms from collapsing.")
