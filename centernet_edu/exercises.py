"""Checkers for the chapters' exercises: grade your own implementation against the package.

Each ``check_*`` function calls your function on a set of random and edge-case inputs,
compares it with the package's version, and returns a ``Report``. Printing it tells
which case failed first, with the inputs, so you can reproduce it.

    >>> from centernet_edu.exercises import check_focal_loss
    >>> print(check_focal_loss(my_focal_loss))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from .heatmap import gaussian_radius
from .losses import focal_loss, focal_loss_with_logits, reg_l1_loss

__all__ = [
    "Report",
    "check_gaussian_radius",
    "check_focal_loss",
    "check_focal_loss_with_logits",
    "check_reg_l1_loss",
]


@dataclass
class Report:
    """The outcome of a checker: how many cases passed, and the first failure."""

    name: str
    passed: int = 0
    total: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.passed == self.total

    def __str__(self) -> str:
        head = f"{self.name}: {self.passed}/{self.total} cases pass"
        if self.ok:
            return head + ". Well done."
        return head + "\nfirst failure: " + self.failures[0]

    def __bool__(self) -> bool:
        return self.ok


def _run(name: str, cases, yours: Callable, ours: Callable, rtol: float, atol: float) -> Report:
    report = Report(name)
    for description, args in cases:
        report.total += 1
        want = ours(*args)
        try:
            got = yours(*args)
            close = torch.allclose(
                torch.as_tensor(got, dtype=torch.float64),
                torch.as_tensor(want, dtype=torch.float64),
                rtol=rtol,
                atol=atol,
            )
        except Exception as e:  # a student's error is a failed case, not a crash
            report.failures.append(f"{description}: raised {type(e).__name__}: {e}")
            continue
        if close:
            report.passed += 1
        else:
            report.failures.append(f"{description}: expected {want}, got {got}")
    return report


def _heatmap_cases(seed: int, n: int, logits: bool):
    g = torch.Generator().manual_seed(seed)
    for i in range(n):
        shape = (int(torch.randint(1, 3, (), generator=g)), 2, 6, 7)
        x = torch.randn(shape, generator=g, dtype=torch.float64) * 3
        gt = torch.rand(shape, generator=g, dtype=torch.float64) ** 4
        n_pos = 0 if i == 0 else int(torch.randint(1, 5, (), generator=g))
        gt.view(-1)[torch.randperm(gt.numel(), generator=g)[:n_pos]] = 1.0
        x = x.clamp(-9, 9)  # inside the reference clamp, so both forms agree
        pred = x if logits else torch.sigmoid(x)
        yield f"case {i} ({n_pos} positives, shape {tuple(shape)})", (pred, gt)


def check_gaussian_radius(fn: Callable, variant: str = "corrected", seed: int = 0) -> Report:
    """Grade ``fn(height, width, min_overlap) -> float`` against ``gaussian_radius``."""
    g = torch.Generator().manual_seed(seed)
    cases = [("square 10 x 10 at 0.7", (10.0, 10.0, 0.7)), ("thin 2 x 80 at 0.7", (2.0, 80.0, 0.7))]
    for i in range(20):
        h, w = (torch.rand(2, generator=g) * 200 + 1).tolist()
        o = float(torch.rand((), generator=g) * 0.8 + 0.1)
        cases.append((f"random case {i}: h={h:.3f}, w={w:.3f}, min_overlap={o:.3f}", (h, w, o)))
    return _run(
        f"gaussian_radius ({variant})",
        cases,
        fn,
        lambda h, w, o: gaussian_radius(h, w, o, variant=variant),
        rtol=1e-6,
        atol=1e-9,
    )


def check_focal_loss(fn: Callable, seed: int = 0) -> Report:
    """Grade ``fn(pred, gt) -> scalar`` (probabilities in) against ``focal_loss``."""
    return _run("focal_loss", _heatmap_cases(seed, 12, False), fn, focal_loss, 1e-6, 1e-9)


def check_focal_loss_with_logits(fn: Callable, seed: int = 0) -> Report:
    """Grade ``fn(logits, gt) -> scalar`` against ``focal_loss_with_logits``."""
    cases = list(_heatmap_cases(seed, 10, True))
    big = torch.tensor([[[[40.0, -40.0], [-60.0, 60.0]]]], dtype=torch.float64)
    gt = torch.tensor([[[[1.0, 0.0], [1.0, 0.5]]]], dtype=torch.float64)
    cases.append(("huge logits, confident mistakes (must stay finite)", (big, gt)))
    return _run("focal_loss_with_logits", cases, fn, focal_loss_with_logits, 1e-6, 1e-9)


def check_reg_l1_loss(fn: Callable, seed: int = 0) -> Report:
    """Grade ``fn(output, mask, ind, target) -> scalar`` against ``reg_l1_loss``."""
    g = torch.Generator().manual_seed(seed)
    cases = []
    for i in range(10):
        B, M, H, W = 2, 5, 6, 7
        output = torch.randn(B, 2, H, W, generator=g, dtype=torch.float64)
        ind = torch.randint(0, H * W, (B, M), generator=g)
        mask = (torch.rand(B, M, generator=g) < 0.6).to(torch.uint8)
        if i == 0:
            mask.zero_()
        target = torch.randn(B, M, 2, generator=g, dtype=torch.float64)
        cases.append((f"case {i} ({int(mask.sum())} objects)", (output, mask, ind, target)))
    return _run("reg_l1_loss", cases, fn, reg_l1_loss, 1e-6, 1e-9)
