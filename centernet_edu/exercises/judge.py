"""Running a student's function on the cases of an exercise, and judging what it returns.

Every call works on copies of the case's inputs, so a function that changes its inputs is
caught, and cannot spoil the next case. An exception is a failed case, told by its type,
its message and the last line of the student's own code it went through (never a line of
the package). A result is judged in this order: present (a missing ``return`` gives
None), of the right kind, shape and dtype, finite, then close to the package's, at the
precision of the coarser of the two dtypes: a float32 result is judged at float32
precision, and a float64 one that is only right to float32 precision is told so.

When a case fails, the checker computes the classic mistakes it knows on the same
inputs; one that gives the student's result becomes the report's hint.
"""

from __future__ import annotations

import os
import sysconfig
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from .. import validate
from .report import Report

__all__ = [
    "Case",
    "Exercise",
    "Outcome",
    "Verdict",
    "run",
    "call",
    "settle",
    "report",
    "strict_float64",
    "catching_everything",
    "judge_tensor",
    "as_tensor",
    "describe_error",
    "seed_of",
    "clone",
    "kind_of",
    "TOLERANCE",
]

# (rtol, atol) at which a result of each precision is judged.
TOLERANCE = {torch.float64: (1e-6, 1e-9), torch.float32: (1e-4, 1e-6)}

_STUB_HINT = "this is still the stub: replace `raise NotImplementedError` with your code."
_PRECISION_WORDS = (
    "right to float32 precision but not to float64: does your code compute in float32 "
    "somewhere (a torch.tensor(...) or torch.zeros(...) without a dtype, a .float())?"
)


_FLOAT64_WORDS = (
    "your {what} is float32 where the inputs are float64, and this assignment asks for "
    "float64: compute in the dtype of the inputs (no .float(), and give torch.tensor(...) "
    "or torch.zeros(...) the inputs' dtype)"
)
# Whether a float32 result for float64 inputs fails (strict_float64), and what ``call``
# records as a failed case rather than raising.
_STRICT: ContextVar[bool] = ContextVar("strict_float64", default=False)
_CAUGHT: ContextVar[type | tuple] = ContextVar("caught", default=(Exception, SystemExit))


def _real(path: str) -> str:
    return os.path.realpath(path)


_NOT_STUDENT = tuple(
    {_real(str(Path(__file__).parents[1]))}
    | {
        _real(p)
        for k, p in sysconfig.get_paths().items()
        if k.endswith(("stdlib", "purelib", "platlib"))
    }
)


@dataclass(frozen=True)
class Case:
    """One targeted input: ``words`` name it in a report, ``hint`` explains its failure.

    The hint is given only when it fits the failure: when ``mistake`` (a function making
    the mistake it explains) reproduces the student's result, or, without one, when the
    result is a NaN or an infinity, which is what such a hint explains, or when the
    function raised and ``on_error`` says the case's situation is what made it raise."""

    words: str
    args: tuple
    hint: str | None = None
    mistake: Callable | None = None
    on_error: bool = False


@dataclass(frozen=True)
class Outcome:
    """What one call of the student's function did."""

    result: object = None
    error: str | None = None  # the student's exception, in words
    error_kind: str | None = None  # its type's name: "NotImplementedError"
    changed: tuple[str, ...] = ()  # inputs it changed (that it should not have)
    given: tuple = ()  # its copies of the inputs, as it left them


@dataclass(frozen=True)
class Verdict:
    """``problem`` is None when the case passes; ``note`` remarks on a pass."""

    problem: str | None = None
    note: str | None = None
    nonfinite: bool = False  # the problem is a NaN or an infinity
    precision: bool = False  # the problem is float32 precision where float64 belongs


def plain_call(fn: Callable, args: tuple):
    return fn(*args)


@dataclass(frozen=True)
class Exercise:
    """How to run and judge one exercise.

    ``reference`` is the package's function; ``judge(outcome, want)`` compares a
    student's outcome with the reference's result; ``mistakes`` pairs a hint with a
    function that makes that mistake; ``invoke(fn, args)`` calls a function on a case's
    arguments; ``in_place`` names the inputs the function is meant to change. The hints:
    ``mutation_hint`` for a changed input, ``nonfinite_hint`` for a NaN or infinite result,
    ``error_hints`` for an exception whose message holds the given words.
    """

    name: str
    arg_names: tuple[str, ...]
    reference: Callable
    judge: Callable[[Outcome, object], Verdict]
    mistakes: tuple[tuple[str, Callable], ...] = ()
    invoke: Callable = plain_call
    in_place: tuple[str, ...] = ()
    mutation_hint: str | None = None
    nonfinite_hint: str | None = None
    error_hints: tuple[tuple[str, str], ...] = ()  # (words in an error, the hint)


def kind_of(x) -> str:
    """``x``'s type as a reader says it: "None", "a tuple", "an int"."""
    if x is None:
        return "None"
    name = type(x).__name__
    return f"{'an' if name[0] in 'aeiouAEIOU' else 'a'} {name}"


def clone(x):
    """A deep copy of tensors, arrays and the dicts, lists and tuples that hold them."""
    if isinstance(x, torch.Tensor):
        return x.detach().clone()
    if isinstance(x, np.ndarray):
        return x.copy()
    if isinstance(x, dict):
        return {k: clone(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(clone(v) for v in x)
    return x


def _same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return (
            isinstance(b, torch.Tensor)
            and (a.shape, a.dtype) == (b.shape, b.dtype)
            and torch.equal(a, b.to(a.device))
        )
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict):  # a stack's outputs: a list of dicts of tensors
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # an object without a plain ==: judged unchanged
        return True


def _changed(name: str, before, after) -> list[str]:
    """The parts of input ``name`` that differ, as ``outputs['hm']``."""
    if isinstance(before, dict) and isinstance(after, dict):
        parts = [k for k in before if k not in after or not _same(before[k], after[k])]
        return [f"{name}[{k!r}]" for k in parts + [k for k in after if k not in before]]
    return [] if _same(before, after) else [name]


def _is_student_file(filename: str) -> bool:
    if filename.startswith("<frozen"):
        return False
    path = _real(filename) if not filename.startswith("<") else filename
    return not any(path == d or path.startswith(d + os.sep) for d in _NOT_STUDENT)


def seed_of(seed) -> int:
    """A checker's ``seed`` as an ``int`` in [0, 2**63) (it picks the random cases; a torch
    Generator takes a 64-bit signed seed)."""
    seed = validate.nonnegative_int("seed", seed)
    if seed >= 2**63:
        raise ValueError(f"seed must be a non-negative integer below 2**63, got {seed!r}")
    return seed


def _message(error: BaseException) -> str:
    """``str(error)``; an exception whose ``str`` itself fails (a student's class) is told
    by its ``repr``, or failing that by what went wrong."""
    for show in (str, repr):
        try:
            text = show(error)
            if isinstance(text, str):
                return text
        except Exception:  # a student's __str__ or __repr__ that raises
            pass
    return f"<its message cannot be shown: {type(error).__name__}.__str__ fails>"


def describe_error(error: BaseException, who: str = "your function") -> str:
    """``error`` in words, with the last line of the student's code it went through."""
    message = " ".join(_message(error).split())
    message = message if len(message) <= 300 else message[:297] + "..."
    words = type(error).__name__ + (f": {message}" if message else "")
    memory = isinstance(error, MemoryError) or "can't allocate memory" in message
    text = f"{who} ran out of memory ({words})" if memory else f"{who} raised {words}"
    frames = [f for f in traceback.extract_tb(error.__traceback__) if _is_student_file(f.filename)]
    if frames:
        f = frames[-1]
        source = f": {f.line.strip()}" if f.line else ""
        text += f"\n    in {f.name}, {os.path.basename(f.filename)} line {f.lineno}{source}"
    return text


def call(invoke: Callable, fn: Callable, args: tuple) -> Outcome:
    """``invoke(fn, args)``, an exercise's way to call ``fn`` on a case's ``args`` (which
    it may change: pass copies).

    An exception is the outcome, not raised; within ``catching_everything`` (the class
    grader's process, where no one presses Ctrl-C) ``KeyboardInterrupt`` is one too."""
    default_dtype = torch.get_default_dtype()
    try:
        result = invoke(fn, args)
    except _CAUGHT.get() as error:  # a student's error is a failed case
        return Outcome(error=describe_error(error), error_kind=type(error).__name__, given=args)
    finally:
        torch.set_default_dtype(default_dtype)  # a student's set_default_dtype stays theirs
    return Outcome(result=result, given=args)


def settle(exercise: Exercise, case: Case, outcome: Outcome) -> Outcome:
    """``outcome`` with the inputs it changed named: its ``given`` against ``case.args``."""
    if outcome.error is not None or len(outcome.given) != len(case.args):
        return outcome
    changed = [
        part
        for name, before, after in zip(exercise.arg_names, case.args, outcome.given, strict=True)
        if name not in exercise.in_place
        for part in _changed(name, before, after)
    ]
    return replace(outcome, changed=tuple(changed))


def _judge(exercise: Exercise, outcome: Outcome, want) -> Verdict:
    if outcome.error is not None:
        return Verdict(outcome.error)
    if outcome.changed:
        s = "s" if len(outcome.changed) > 1 else ""
        return Verdict(
            f"your function changed its input{s} {', '.join(outcome.changed)}: it must "
            "leave its inputs as they were (compute on new tensors, never in place)"
        )
    if outcome.result is None and not exercise.in_place:
        return Verdict("your function returned None: is a `return` missing?")
    try:
        return exercise.judge(outcome, want)
    except Exception as error:  # a result too odd to compare is a failed case
        return Verdict(
            f"your result ({kind_of(outcome.result)}) could not be compared with the "
            f"expected one ({type(error).__name__})"
        )


def _makes(exercise: Exercise, mistaken: Callable, case: Case, outcome: Outcome) -> bool:
    """Whether ``mistaken`` gives the student's result on ``case``."""
    try:
        wrong = exercise.invoke(mistaken, clone(case.args))
        return exercise.judge(outcome, wrong).problem is None
    except Exception:  # a mistake that does not apply to this case
        return False


def _hint(exercise: Exercise, failed: list[tuple[Case, Outcome, Verdict]]) -> str | None:
    """The hint for the first failure: a known mistake that gives the student's results
    on the first few failing cases, else what the failing case itself suggests."""
    case, outcome, verdict = failed[0]
    if outcome.error_kind == "NotImplementedError":
        return _STUB_HINT
    if outcome.changed:
        return exercise.mutation_hint
    if outcome.error is None and outcome.result is None and not exercise.in_place:
        return None  # the report already asks whether a `return` is missing
    if outcome.error and "ran out of memory" in outcome.error:
        return None
    if outcome.error:  # only a hint about that error, or about the case, fits an exception
        found = (hint for words, hint in exercise.error_hints if words in outcome.error)
        return next(found, case.hint if case.on_error else None)
    comparable = [
        (c, o) for c, o, v in failed if o.error is None and not o.changed and not v.nonfinite
    ]
    if comparable and comparable[0][0] is case:
        for hint, mistaken in exercise.mistakes:
            if all(_makes(exercise, mistaken, c, o) for c, o in comparable):
                return hint
    if verdict.precision:
        return None  # the report already says what to look for
    if case.hint and case.mistake is not None:
        if outcome.error is None and _makes(exercise, case.mistake, case, outcome):
            return case.hint
    elif case.hint and verdict.nonfinite:
        return case.hint
    return exercise.nonfinite_hint if verdict.nonfinite else None


def report(exercise: Exercise, cases: list[Case], outcomes: list[Outcome]) -> Report:
    """Compare each case's outcome with the package's result on it, and report.

    The class grader calls this in its own process, on the outcomes that the student's
    process sent back: nothing the student's code changes reaches the comparison."""
    result = Report(exercise.name)
    failed = []
    for case, outcome in zip(cases, outcomes, strict=True):
        result.total += 1
        want = exercise.invoke(exercise.reference, clone(case.args))
        verdict = _judge(exercise, settle(exercise, case, outcome), want)
        if verdict.problem is None:
            result.passed += 1
            if verdict.note and not result.notes:
                result.notes.append(verdict.note)
            continue
        result.failures.append(f"{case.words}: {verdict.problem}")
        if len(failed) < 3:  # enough to tell the known mistakes apart
            failed.append((case, settle(exercise, case, outcome), verdict))
    if failed:
        result.hint = _hint(exercise, failed)
    return result


def run(exercise: Exercise, fn: Callable, cases: list[Case]) -> Report:
    """Call ``fn`` on every case, compare with the package, and report."""
    if not callable(fn):
        result = Report(exercise.name, total=len(cases))
        result.failures.append(
            f"the checker needs your function itself, got {kind_of(fn)}: pass "
            "`my_function`, not `my_function(...)`"
        )
        return result
    return report(exercise, cases, [call(exercise.invoke, fn, clone(c.args)) for c in cases])


@contextmanager
def strict_float64(strict: bool = True):
    """Within it, a float32 result where the inputs are float64 fails (an assignment that
    asks for float64) instead of passing at float32 precision with a note."""
    token = _STRICT.set(strict)
    try:
        yield
    finally:
        _STRICT.reset(token)


@contextmanager
def catching_everything():
    """Within it, ``call`` records every exception as the case's outcome, Ctrl-C too."""
    token = _CAUGHT.set(BaseException)
    try:
        yield
    finally:
        _CAUGHT.reset(token)


# Judging one tensor -------------------------------------------------------------------


def as_tensor(x) -> torch.Tensor | None:
    """A tensor, array or plain number as a CPU tensor; None for anything else."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu()
    if isinstance(x, np.generic):
        x = np.asarray(x)
    if isinstance(x, np.ndarray):
        try:
            return torch.from_numpy(np.array(x))  # a copy, 0-d kept
        except TypeError:  # object arrays, strings
            return None
    if isinstance(x, float):  # a Python float is a double
        return torch.tensor(x, dtype=torch.float64)
    if isinstance(x, (bool, int, complex)):
        return torch.tensor(x)
    return None


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _dtype_problem(what: str, got: torch.dtype, want: torch.dtype, kind: str) -> str | None:
    name = _dtype_name(got)
    if kind == "float":
        if got in (torch.float16, torch.bfloat16):
            return f"your {what} is {name} where {_dtype_name(want)} belongs: half precision keeps only about 3 digits"
        if not got.is_floating_point:
            return (
                f"your {what} is {name} where a floating-point tensor ({_dtype_name(want)}) belongs"
            )
        return None
    integral = not (got.is_floating_point or got.is_complex) and (
        kind == "mask" or got != torch.bool
    )
    if not integral:
        return f"your {what} is {name} where an integer tensor ({_dtype_name(want)}) belongs"
    return None


def _shape_words(what: str, got: tuple, want: tuple) -> str:
    wanted = "a single number (shape ())" if want == () else str(want)
    return f"your {what} has shape {got} where {wanted} belongs"


def _pair(a: float, b: float) -> tuple[str, str]:
    """Both numbers with just enough digits to tell them apart (at least 4)."""
    for digits in range(4, 18):
        x, y = f"{a:.{digits}g}", f"{b:.{digits}g}"
        if x != y:
            return x, y
    return repr(a), repr(b)


def _at(where: Callable | None, index: tuple) -> str:
    return f" at {where(index)}" if where and index else ""


def _compare(got: torch.Tensor, want: torch.Tensor, what: str, where) -> Verdict:
    g, w = got.to(torch.float64), want.to(torch.float64)
    verb = "is" if want.ndim == 0 else "has"
    if not want.is_floating_point():
        bad = g != w
        if bad.any():
            i = tuple(int(v) for v in bad.nonzero()[0])
            return Verdict(
                f"your {what} {verb} {int(g[i])} where {int(w[i])} belongs{_at(where, i)}"
            )
        return Verdict()
    nonfinite = ~torch.isfinite(g) & torch.isfinite(w)
    if nonfinite.any():
        i = tuple(int(v) for v in nonfinite.nonzero()[0])
        value = {"nan": "NaN (not a number)"}.get(str(g[i].item()), str(g[i].item()))
        return Verdict(f"your {what} {verb} {value}{_at(where, i)}", nonfinite=True)
    coarse = torch.float32 in (got.dtype, want.dtype)
    rtol, atol = TOLERANCE[torch.float32 if coarse else torch.float64]
    close = torch.isclose(g, w, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        fine = torch.allclose(g, w, *TOLERANCE[torch.float64], equal_nan=True)
        if got.dtype == torch.float32 and want.dtype == torch.float64 and not fine:
            return Verdict(
                note="your results are float32 where the inputs are float64: "
                "they were judged at float32 precision"
            )
        return Verdict()
    excess = ((g - w).abs() / (atol + rtol * w.abs())).nan_to_num(torch.inf).masked_fill(close, 0)
    i = tuple(int(v) for v in np.unravel_index(int(excess.argmax()), tuple(g.shape)))
    mine, right = _pair(g[i].item(), w[i].item())
    text = f"your {what} {verb} {mine} where {right} belongs{_at(where, i)}"
    if int((~close).sum()) > 1:
        text += f" ({int((~close).sum())} values differ)"
    if not coarse and torch.allclose(g, w, *TOLERANCE[torch.float32], equal_nan=True):
        return Verdict(text + "; " + _PRECISION_WORDS, precision=True)
    return Verdict(text)


def judge_tensor(got, want: torch.Tensor, what: str, where=None, kind: str = "float") -> Verdict:
    """``got`` against ``want``: a tensor (or array, or number) of its shape, dtype, values.

    ``kind`` is ``"float"``, ``"int"`` (any integer dtype) or ``"mask"`` (integers or
    bool); ``where(index)`` names a position in words ("x = 0, y = 4").
    """
    if got is None:
        return Verdict(f"your {what} is None")
    t = as_tensor(got)
    if t is None:
        return Verdict(f"your {what} is {kind_of(got)} where a tensor belongs")
    if tuple(t.shape) != tuple(want.shape):
        return Verdict(_shape_words(what, tuple(t.shape), tuple(want.shape)))
    problem = _dtype_problem(what, t.dtype, want.dtype, kind)
    if problem:
        return Verdict(problem)
    if _STRICT.get() and want.dtype == torch.float64 and t.dtype == torch.float32:
        return Verdict(_FLOAT64_WORDS.format(what=what), precision=True)
    return _compare(t, want, what, where)
