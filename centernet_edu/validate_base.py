"""The checks of one value each: an integer, a number in a range, a tensor of some shape.

Every check raises a ``ValueError`` that names the argument, says what was expected and
shows what came; a check that passes returns the value in the form the caller computes
with (a Python ``int``, a ``(H, W)`` tuple, ...). ``validate`` builds the checks of each
public entry point from these and re-exports them.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable
from numbers import Integral, Real

import numpy as np
import torch

__all__ = [
    "integer",
    "positive_int",
    "nonnegative_int",
    "odd_positive_int",
    "int_pair",
    "number",
    "is_finite_numbers",
    "numeric_array",
    "object_rows",
    "boxes",
    "class_labels",
    "choice",
    "option",
    "tensor",
    "same_shape",
    "probability_target",
    "has_keys",
    "nonnegative_finite",
    "shape_of",
    "type_name",
    "finite",
    "labelled_boxes",
    "MAX_ELEMENTS",
    "not_too_large",
    "real_array",
    "not_bool",
    "numeric_labels",
    "not_meta",
    "device_of",
    "naming",
    "real_pair",
    "flat_index",
    "dense_map",
    "map_values",
    "count",
]

# The most elements an array built from a size argument may hold.
MAX_ELEMENTS = 2**31


def shape_of(x) -> object:
    """What to show of a bad argument: its shape if it has one, else its type's name."""
    shape = getattr(x, "shape", None)
    return tuple(shape) if shape is not None else type(x).__name__


def type_name(x) -> str:
    """The name a message gives ``x``'s type: ``numpy.ndarray``, ``torch.Tensor``, ``list``."""
    t = type(x)
    module = {"builtins": "", "torch": "torch."}.get(t.__module__.split(".")[0])
    return (f"{t.__module__.split('.')[0]}." if module is None else module) + t.__qualname__


def not_meta(name: str, x) -> None:
    """``x``, when a tensor, is not on the meta device (which has shapes but no values)."""
    if isinstance(x, torch.Tensor) and x.is_meta:
        raise ValueError(f"{name} is on the meta device, which holds no values")


def not_bool(name: str, x, wanted: str = "numbers") -> None:
    """``x``, when a tensor or an array, is not of a boolean dtype; ``wanted`` words the
    message (``"numbers x1, y1, x2, y2"``)."""
    dtype = getattr(x, "dtype", None)
    if (isinstance(dtype, np.dtype) and dtype.kind == "b") or dtype is torch.bool:
        raise ValueError(f"{name} must be {wanted}, got booleans ({dtype})")


def _is_int(value) -> bool:
    # bool is an int to Python, never to a reader of "an integer".
    return isinstance(value, Integral) and not isinstance(value, bool)


def integer(name: str, value, minimum: int, wanted: str | None = None) -> int:
    """``value`` as an ``int`` >= ``minimum``; ``wanted`` words the message."""
    if not _is_int(value) or value < minimum:
        wanted = wanted or f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {wanted}, got {value!r}")
    return int(value)


def positive_int(name: str, value) -> int:
    """``value`` as an ``int`` >= 1."""
    return integer(name, value, 1, "a positive integer")


def nonnegative_int(name: str, value) -> int:
    """``value`` as an ``int`` >= 0."""
    return integer(name, value, 0, "a non-negative integer")


def odd_positive_int(name: str, value) -> int:
    """``value`` as an odd ``int`` >= 1 (a window with a centre pixel)."""
    if not _is_int(value) or value < 1 or value % 2 == 0:
        raise ValueError(f"{name} must be a positive odd integer, got {value!r}")
    return int(value)


def int_pair(name: str, value, minimum: int = 1, labels: str = "(H, W)") -> tuple[int, int]:
    """Two integers >= ``minimum``, such as an ``(H, W)`` size, as a tuple of ``int``."""
    try:
        ok = len(value) == 2 and all(
            not isinstance(v, bool) and int(v) == v and v >= minimum for v in value
        )
    except (TypeError, ValueError):
        ok = False
    if not ok:
        words = "positive integers" if minimum == 1 else f"integers >= {minimum}"
        labels = f" {labels}" if labels else ""
        raise ValueError(f"{name} must be two {words}{labels}, got {value!r}")
    return int(value[0]), int(value[1])


def _interval(low: float, high: float, open_low: bool, open_high: bool) -> str:
    if math.isinf(low) and math.isinf(high):
        return "a finite number"
    if math.isinf(high):
        return f"a finite number {'>' if open_low else '>='} {low:g}"
    if math.isinf(low):
        return f"a finite number {'<' if open_high else '<='} {high:g}"
    return f"a number in {'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"


def number(
    name: str,
    value,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    open_low: bool = False,
    open_high: bool = False,
    wanted: str | None = None,
) -> float:
    """``value`` as a finite ``float`` in the interval from ``low`` to ``high``.

    The ends are included unless ``open_low`` / ``open_high`` say otherwise; an infinite
    end means no bound on that side. ``wanted`` words the message.
    """
    ok = isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > low if open_low else value >= low) and (
            value < high if open_high else value <= high
        )
    if not ok:
        wanted = wanted or _interval(low, high, open_low, open_high)
        raise ValueError(f"{name} must be {wanted}, got {value!r}")
    return float(value)


def is_finite_numbers(value, n: int) -> bool:
    """Whether ``value`` is a list, tuple or array of ``n`` finite numbers (a predicate, for
    checks that word their own message, such as an item of a COCO file)."""
    return (
        isinstance(value, (list, tuple, np.ndarray))
        and len(value) == n
        and all(isinstance(v, Real) and not isinstance(v, bool) and math.isfinite(v) for v in value)
    )


def numeric_array(name: str, x, dtype) -> np.ndarray:
    """``x`` (a tensor, an array or nested lists) as a numpy array of ``dtype``."""
    if isinstance(x, torch.Tensor):
        not_meta(name, x)
        x = x.detach().cpu().numpy()
    try:
        return np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} must be numeric, got {x!r}") from e


def object_rows(
    name: str, x, columns: int, layout: str, n: int | None = None, dtype=np.float32, what="rows"
) -> np.ndarray:
    """``x`` as a finite ``(N, columns)`` array of ``dtype``, one row per object.

    ``layout`` names the columns in the message (``"x1, y1, x2, y2"``); with ``n`` there
    must be exactly ``n`` rows; an empty ``x`` is ``(0, columns)``; ``what`` names the rows
    in the message (``"boxes"``).
    """
    not_bool(name, x, f"numbers {layout}")
    a = numeric_array(name, x, dtype)
    if a.size == 0:
        a = a.reshape(0, columns)
    if a.ndim != 2 or a.shape[1] != columns or (n is not None and len(a) != n):
        rows = "N" if n is None else n
        raise ValueError(f"{name} must have shape ({rows}, {columns}) as {layout}, got {a.shape}")
    bad = ~np.isfinite(a).all(axis=1)
    if bad.any():
        raise ValueError(
            f"{name} must be finite, got NaN or infinity in {what} {np.flatnonzero(bad).tolist()}"
        )
    return a


def boxes(name: str, x, dtype=np.float32) -> np.ndarray:
    """``x`` as a finite ``(N, 4)`` array of boxes x1, y1, x2, y2 with x1 <= x2, y1 <= y2."""
    b = object_rows(name, x, 4, "x1, y1, x2, y2", dtype=dtype, what="boxes")
    inverted = (b[:, 2] < b[:, 0]) | (b[:, 3] < b[:, 1])
    if inverted.any():
        raise ValueError(
            f"{name} need x1 <= x2 and y1 <= y2, got {b[inverted].tolist()} "
            f"(boxes {np.flatnonzero(inverted).tolist()})"
        )
    return b


def class_labels(name: str, labels, n: int, num_classes: int) -> np.ndarray:
    """``labels`` as ``(n,) int64`` classes in ``[0, num_classes)``, one per object."""
    not_meta(name, labels)
    raw = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    if raw.size == 0:
        raw = raw.reshape(0)
    if raw.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},) to match the objects, got {raw.shape}")
    if n and not (np.issubdtype(raw.dtype, np.integer) or np.all(np.mod(raw, 1) == 0)):
        raise ValueError(f"{name} must be integers, got {raw.tolist()}")
    lab = raw.astype(np.int64)
    bad = (lab < 0) | (lab >= num_classes)
    if bad.any():
        raise ValueError(
            f"{name} must lie in [0, {num_classes}), got {lab[bad].tolist()} "
            f"(objects {np.flatnonzero(bad).tolist()})"
        )
    return lab


def choice(name: str, value, options: Iterable) -> object:
    """``value`` itself, when it is one of ``options``."""
    options = tuple(options)
    if value not in options:
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value


def option(name: str, value, options: Iterable) -> object:
    """``value`` itself, when it is one of ``options``; as ``choice``, but a bool is never
    the option 1 or 0 (``True == 1`` to Python) unless the options hold bools."""
    options = tuple(options)
    is_bool = isinstance(value, (bool, np.bool_))
    if not any(o == value and isinstance(o, (bool, np.bool_)) == is_bool for o in options):
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value


def finite(name: str, x) -> None:
    """Every entry of the tensor or array ``x`` is finite; the message shows the first one
    that is not and where it is."""
    a = x.detach().cpu() if isinstance(x, torch.Tensor) else np.asarray(x)
    bad = ~torch.isfinite(a) if isinstance(a, torch.Tensor) else ~np.isfinite(a)
    if bad.any():
        at = tuple(int(i) for i in np.argwhere(np.asarray(bad))[0])
        v = float(a[at])
        shown = "NaN" if math.isnan(v) else ("-inf" if v < 0 else "inf")
        raise ValueError(f"{name} must be finite, got {shown} at {at}")


def labelled_boxes(name: str, boxes, labels_name: str, labels) -> tuple[np.ndarray, np.ndarray]:
    """``boxes`` as finite ``(N, 4)`` float64 rows x1, y1, x2, y2 (any array of 4N numbers)
    and ``labels`` as ``(N,)`` integer classes, one per box."""
    b = numeric_array(name, boxes, np.float64)
    b = object_rows(
        name, b.reshape(-1, 4) if b.size % 4 == 0 else b, 4, "x1, y1, x2, y2", what="boxes"
    )
    lab = numeric_array(labels_name, labels, np.float64).reshape(-1)
    if len(lab) != len(b):
        raise ValueError(
            f"{labels_name} must hold one label per box of {name} ({len(b)}), got {len(lab)}"
        )
    if not np.all(np.mod(lab, 1) == 0):  # also catches NaN and infinity
        raise ValueError(f"{labels_name} must be integers, got {lab.tolist()}")
    return b, lab.astype(np.int64)


def tensor(name: str, x, ndim: int | None = None, dims: str | None = None) -> torch.Tensor:
    """``x`` itself, when it is a ``torch.Tensor`` with ``ndim`` dimensions.

    ``dims`` names the dimensions in the message, e.g. ``"(B, C, H, W)"``.
    """
    if not isinstance(x, torch.Tensor) or (ndim is not None and x.ndim != ndim):
        if dims:
            raise ValueError(f"{name} must have shape {dims}, got {shape_of(x)}")
        wanted = f"a {ndim}-D torch.Tensor" if ndim else "a torch.Tensor"
        raise ValueError(f"{name} must be {wanted}, got {shape_of(x)}")
    not_meta(name, x)
    return x


def same_shape(a_name: str, a, b_name: str, b) -> None:
    """Both are tensors of one shape."""
    tensor(a_name, a)
    tensor(b_name, b)
    if a.shape != b.shape:
        raise ValueError(
            f"{a_name} and {b_name} must have the same shape, got {tuple(a.shape)} and "
            f"{tuple(b.shape)}"
        )


def probability_target(name: str, extremes: tuple[float, float], hint: str = "") -> None:
    """A target's ``(min, max)``, already reduced, lies in [0, 1].

    Takes the two numbers rather than the tensor, so a loss can check its target on a
    reduction it computes anyway, without another pass over a large heatmap. ``hint``
    follows the expected range in the message.
    """
    low, high = extremes
    if not (low >= 0 and high <= 1):  # also catches NaN
        raise ValueError(
            f"{name} must hold values in [0, 1]{hint}, got values in [{low:g}, {high:g}]"
        )


def has_keys(where: str, d, keys: Iterable[str]) -> None:
    """``d`` is a mapping that holds every one of ``keys``."""
    keys = list(keys)
    if not hasattr(d, "keys"):
        raise ValueError(f"{where} must be a dict holding {keys}, got {type(d).__name__}")
    missing = [k for k in keys if k not in d]
    if missing:
        raise ValueError(f"{where} must hold {keys}, missing {missing}")


def nonnegative_finite(name: str, value, high: float = math.inf) -> None:
    """A number, or every entry of a numpy array or tensor, is finite, >= 0 and <= ``high``."""
    not_meta(name, value)
    if isinstance(value, torch.Tensor):
        ok = bool((torch.isfinite(value) & (value >= 0) & (value <= high)).all())
    elif isinstance(value, np.ndarray):
        ok = bool((np.isfinite(value) & (value >= 0) & (value <= high)).all())
    else:
        ok = isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)
        ok = ok and 0 <= value <= high
    if not ok:
        bound = f" and <= {high:g}" if high < math.inf else ""
        raise ValueError(f"{name} must be finite and >= 0{bound}, got {value!r}")


def not_too_large(name: str, value, shape: Iterable[int]) -> None:
    """An array of ``shape`` (asked for by the argument ``value``) fits in MAX_ELEMENTS."""
    n = math.prod(int(d) for d in shape)
    if n > MAX_ELEMENTS:
        raise ValueError(
            f"{name} asks for an array of {n:.3g} elements, more than the {MAX_ELEMENTS:.3g} "
            f"allowed, got {value!r}"
        )


def real_array(name: str, x):
    """``x`` with no complex values; a tensor of a dtype numpy lacks (bfloat16) as float32."""
    not_meta(name, x)
    dtype = getattr(x, "dtype", None)
    if dtype is None and isinstance(x, (list, tuple)):
        try:
            dtype = np.asarray(x).dtype
        except (TypeError, ValueError):
            dtype = None
    if (isinstance(x, torch.Tensor) and x.is_complex()) or (
        isinstance(dtype, np.dtype) and dtype.kind == "c"
    ):
        raise ValueError(f"{name} must be real numbers, got complex values ({dtype})")
    if isinstance(x, torch.Tensor) and x.dtype == torch.bfloat16:
        return x.float()
    return x


def numeric_labels(name: str, labels) -> None:
    """``labels`` hold numbers (not strings or objects), whatever their shape."""
    if isinstance(labels, torch.Tensor):
        return
    try:
        kind = np.asarray(labels).dtype.kind
    except (TypeError, ValueError):
        kind = "O"
    if kind not in "biuf":
        raise ValueError(f"{name} must be integer class numbers, got {labels!r}")


# The hint a decoder gives when a map that must hold probabilities does not.
_PROBABILITY_MAP = " (probabilities: apply a sigmoid to the heatmap head's logits first)"


def device_of(*xs) -> torch.device:
    """The device of the first tensor among ``xs``; the CPU when there is none."""
    return next((x.device for x in xs if isinstance(x, torch.Tensor)), torch.device("cpu"))


@contextlib.contextmanager
def naming(where: str):
    """Prefix the message of a ``ValueError`` raised inside with ``where``."""
    try:
        yield
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None


def real_pair(x_name: str, x, gt) -> None:
    same_shape(x_name, x, "gt", gt)
    if x.is_complex() or x.dtype == torch.bool:
        raise ValueError(f"{x_name} must be a real (floating-point) tensor, got {x.dtype}")
    if gt.is_complex() or gt.dtype == torch.bool:
        raise ValueError(f"gt must be a real (floating-point) tensor in [0, 1], got {gt.dtype}")


def flat_index(ind, mask, H: int, W: int) -> None:
    """``ind`` is an integer tensor inside the map for the filled slots."""
    if ind.dtype.is_floating_point or ind.dtype.is_complex or ind.dtype == torch.bool:
        raise ValueError(f"ind must be an integer tensor, got {ind.dtype}")
    if mask is not None:
        ind = torch.where(mask.bool(), ind, 0)
    if ind.numel() and bool((ind.min() < 0) | (ind.max() >= H * W)):
        raise ValueError(
            f"ind must lie in [0, H*W) = [0, {H * W}), got values in "
            f"[{int(ind.min())}, {int(ind.max())}]"
        )


def dense_map(name: str, x, channels: int | None = None, like: torch.Tensor | None = None):
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        raise ValueError(
            f"{name} must be a (B, C, H, W) tensor, got {getattr(x, 'shape', type(x))}"
        )
    if not x.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got {x.dtype}")
    not_meta(name, x)
    if like is None and 0 in x.shape[1:]:
        raise ValueError(f"{name} must have C, H, W >= 1, got {tuple(x.shape)}")
    if like is not None:
        want = (like.shape[0], channels or like.shape[1], *like.shape[2:])
        if tuple(x.shape) != want:
            raise ValueError(f"{name} must have shape {want} to match heat, got {tuple(x.shape)}")


def map_values(maps) -> None:
    """The values of checked maps, with one host-device synchronisation for all.

    ``maps`` holds ``(name, tensor, kind)``: kind ``"scores"`` refuses NaN,
    ``"probabilities"`` wants values in [0, 1].
    """
    maps = [m for m in maps if m[1].numel()]
    if not maps:
        return
    extremes = torch.stack(
        [v.to(torch.float64) for _, x, _ in maps for v in x.detach().aminmax()]
    ).tolist()
    for i, (name, _, kind) in enumerate(maps):
        low, high = extremes[2 * i : 2 * i + 2]
        if kind == "probabilities":
            probability_target(name, (low, high), _PROBABILITY_MAP)
        elif math.isnan(low) or math.isnan(high):
            raise ValueError(f"{name} must not hold NaN, got NaN")


def count(name: str, k, limit: int, what: str) -> int:
    k = positive_int(name, k)
    if k > limit:
        raise ValueError(f"{name} = {k} is larger than {what} ({limit})")
    return k
