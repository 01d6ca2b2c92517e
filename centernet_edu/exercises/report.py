"""What a checker says: passed or not yet, the first failing case in words, and a hint."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Report"]


@dataclass
class Report:
    """The outcome of a checker.

    ``passed`` of ``total`` cases agree with the package; ``failures`` describes each case
    that did not, in words ("an object at the left border: your heatmap has 0.6065 where
    1 belongs at x = 0, y = 4"); ``hint`` names a classic mistake the checker recognised
    in the first failure; ``notes`` are remarks on passing cases (precision).
    ``bool(report)`` and ``report.ok`` are True when every case passed.
    """

    name: str
    passed: int = 0
    total: int = 0
    failures: list[str] = field(default_factory=list)
    hint: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.passed == self.total

    @property
    def status(self) -> str:
        """``"passed"`` or ``"not yet"``."""
        return "passed" if self.ok else "not yet"

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        head = f"{self.name}: {self.passed}/{self.total} cases pass"
        lines = [head + ". Well done."] if self.ok else [head + " (not yet).", self._failure()]
        if not self.ok and self.hint:
            lines.append(f"hint: {self.hint}")
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)

    def _failure(self) -> str:
        more = len(self.failures) - 1
        tail = f"\n({more} more case{'s fail' if more > 1 else ' fails'})" if more > 0 else ""
        return "first failure: " + self.failures[0] + tail

    def summary(self) -> str:
        """One line (a cell of the class grader's CSV): the first failure and the hint."""
        if self.ok:
            parts = ["all cases pass", *self.notes]
        else:
            parts = [self.failures[0], *([f"hint: {self.hint}"] if self.hint else [])]
        return " | ".join(" ".join(p.split()) for p in parts)
