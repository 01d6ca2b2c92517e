"""What every explorer is made of: controls, shown numbers, embedded data, the scripts.

An ``Explorer`` renders as one self-contained block of HTML (``Explorer._repr_html_``): a
range input (or a select) per ``Control``, an ``<output>`` per ``Shown`` number, one
``svg.cn-figure``, its fixed inputs as JSON, and the package's JavaScript inlined once
(``centernet_edu/explorers/*.js``). ``quantities(name, controls, data)`` dispatches to the
function each explorer registers with ``numbers_of(name)``: the package's value of every
number the browser shows.

Before its script runs (a notebook opened untrusted runs none, and its sanitiser drops the
SVG and the styles) an explorer shows a picture of itself at its starting values instead,
``img.cn-picture`` (``Explorer.picture``, drawn with matplotlib by the function each
explorer registers with ``picture_of(name)``), and one line, ``p.cn-hint``, saying how to
make it live; its controls and numbers wait in ``div.cn-live``, hidden. The script hides
the picture and the line and shows the live explorer.
"""

from __future__ import annotations

import base64
import decimal
import functools
import html
import io
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .. import validate

SCRIPTS = ("formulas.js", "quantities.js", "ui.js", "views.js")  # in load order
SCRIPT_DIR = Path(__file__).parent.parent / "explorers"
DPI = 100  # the picture's pixels per inch: its width in pixels is the live figure's
# The one line shown with the picture (or alone, without matplotlib) until the script runs.
HINT = (
    "A picture of the explorer at its starting values: run this cell, or trust the notebook, "
    "to make it live."
)
HINT_ALONE = "Run this cell, or trust the notebook, to make this explorer live."
MAX_SIDE = 4096  # the most pixels an explorer's figure (its ``size``) may have a side


@dataclass(frozen=True)
class Control:
    """A slider from ``lo`` to ``hi`` by ``step``, or a select over ``options``."""

    name: str
    label: str
    lo: float = 0.0
    hi: float = 1.0
    step: float = 1.0
    integer: bool = False
    options: tuple = ()

    def __post_init__(self):
        # A slider's range and step, checked once here so that ``check`` may trust them.
        if self.options:
            return
        at = f"of control {self.name!r}"
        lo = validate.number(f"lo {at}", self.lo)
        validate.number(f"hi {at}", self.hi, lo, wanted=f"a finite number >= lo ({lo:g})")
        validate.number(f"step {at}", self.step, 0, open_low=True)

    def check(self, value):
        """``value`` on the control's grid (the browser snaps a slider the same way)."""
        if self.options:
            return validate.option(self.name, value, self.options)
        v = validate.number(self.name, value, self.lo, self.hi)
        v = round(min(self.lo + round((v - self.lo) / self.step) * self.step, self.hi), 10)
        return int(v) if self.integer else float(v)


@dataclass(frozen=True)
class Shown:
    """A number the explorer shows: ``<output name=name>`` with ``digits`` decimals."""

    name: str
    label: str
    digits: int = 2


S = Shown


def sliders(*specs) -> list[Control]:
    """One ``Control`` per tuple of its fields."""
    return [Control(*spec) for spec in specs]


def _parts(name: str, value, kind: type) -> tuple:
    """``value``, a list (any iterable) of ``kind`` (``Control`` or ``Shown``), as a tuple."""
    iterable = isinstance(value, Iterable) and not isinstance(value, (str, bytes, dict))
    items = tuple(value) if iterable else None
    if items is None or not all(isinstance(v, kind) for v in items):
        raise TypeError(f"{name} must be a list of {kind.__name__}, got {value!r}")
    return items


def _num(v) -> str:
    """A number as the page writes it: integers without a point, floats in full."""
    v = float(v)
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


@functools.cache
def scripts() -> str:
    """The explorers' JavaScript, in load order, as one text to inline."""
    return "\n".join((SCRIPT_DIR / name).read_text() for name in SCRIPTS)


class Explorer:
    """One explorer: its controls at their values, the numbers it shows, its fixed data.

    ``name`` selects the numbers (``quantities``), the live figure (``views.js``) and the
    static picture (``picture_of``); ``data`` is a dict of JSON-ready values, finite (JSON
    has no NaN), embedded in the page as it is. ``size`` is the figure's (w, h), in pixels,
    at most ``MAX_SIDE`` a side.
    """

    def __init__(self, name, controls, shown, values, data=None, size=(640, 320)):
        size = validate.int_pair("size", size, labels="(w, h) in pixels")
        if max(size) > MAX_SIDE:
            raise ValueError(f"size must be at most {MAX_SIDE} pixels a side, got {size}")
        controls, shown = _parts("controls", controls, Control), _parts("shown", shown, Shown)
        self.name, self.shown, self.data, self.size = name, shown, data or {}, size
        self.controls = {c.name: c for c in controls}
        validate.has_keys("values", values, self.controls)
        self.values = {c.name: c.check(values[c.name]) for c in controls}
        # Written once, so that data the page could not read fails here.
        self.data_text = data_json(self.data)
        self.numbers = self.quantities()  # computed once, so bad data fails here

    def quantities(self, **changes) -> dict[str, float]:
        """The numbers shown at the current values, or with some ``changes`` to them."""
        validate.has_keys("the explorer's controls", self.controls, changes)
        values = self.values | {k: self.controls[k].check(v) for k, v in changes.items()}
        return quantities(self.name, values, self.data)

    def __repr__(self) -> str:
        # The text a notebook saves beside the HTML: short, and without the scripts.
        controls = ", ".join(f"{k}={v!r}" for k, v in self.values.items())
        return f"{type(self).__name__}({controls})"

    def caption(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """The controls and the numbers as the explorer shows them: ``(label, value)``
        pairs, each value as its readout or its ``<output>`` writes it."""
        controls = [
            (c.label, str(v) if c.options else _num(v))
            for c, v in zip(self.controls.values(), self.values.values(), strict=True)
        ]
        shown = [(s.label, shown_text(self.numbers[s.name], s.digits)) for s in self.shown]
        return controls, shown

    @functools.cached_property
    def picture(self) -> bytes | None:
        """The explorer at its values as a PNG: what its live figure shows, with its
        controls and numbers written under it, ``size[0]`` pixels wide; drawn once.
        ``None`` without matplotlib (the ``plot`` extra). Equal values give equal bytes."""
        try:
            from matplotlib.figure import Figure
        except ImportError:
            return None
        w, h = self.size
        controls, shown = self.caption()
        lines = _lines(controls, w // 7) + _lines(shown, w // 7)
        size = (w / DPI, (h + 16 * len(lines)) / DPI)
        fig = Figure(figsize=size, dpi=DPI, layout="constrained")
        PICTURES[self.name](fig, self.values, self.numbers, self.data)
        fig.supxlabel("\n".join(lines), fontsize=9)
        return _png(fig)

    def at(self, values: dict) -> Explorer:
        """The same explorer with its controls at ``values`` (those not named keep theirs)."""
        validate.has_keys("the explorer's controls", self.controls, values)
        return Explorer(
            self.name,
            self.controls.values(),
            self.shown,
            self.values | values,
            self.data,
            self.size,
        )

    def _repr_html_(self) -> str:
        return self.html()

    def html(self, after: str = "") -> str:
        """The self-contained explorer: its picture and hint, its live part hidden until
        its inlined script mounts it (``after`` the figure in that part), no kernel needed."""
        script = f"<script>{scripts()}\nCenterNetUI.mountFrom(document.currentScript);</script>"
        return self.block(self._picture_html(), hidden=True, script=script, after=after)

    def block(
        self, before: str = "", hidden: bool = False, script: str = "", after: str = ""
    ) -> str:
        """The explorer's ``div.cn-explorer``: ``before`` (its picture), the live part
        (controls, numbers, figure; ``hidden`` until a script mounts it), ``after`` it,
        the data as JSON, then ``script``. Without a script it is what a widget mounts."""
        controls = "".join(_control_html(c, self.values[c.name]) for c in self.controls.values())
        numbers = "".join(_shown_html(s, self.numbers[s.name]) for s in self.shown)
        w, h = self.size
        # hidden="hidden", not a bare hidden: the notebook's sanitiser drops empty values.
        shut = ' hidden="hidden"' if hidden else ""
        return (
            f'<div class="cn-explorer" data-explorer="{_attr(self.name)}">{before}'
            f'<div class="cn-live"{shut}>'
            f'<div class="cn-controls">{controls}</div><div class="cn-numbers">{numbers}</div>'
            f'<svg class="cn-figure" xmlns="http://www.w3.org/2000/svg" width="{w}" '
            f'height="{h}" viewBox="0 0 {w} {h}" role="img"></svg>{after}</div>'
            f'<script type="application/json" class="cn-data">{self.data_text}</script>{script}</div>'
        )

    def _picture_html(self) -> str:
        """The picture (when matplotlib draws it) and the line that says how to go live."""
        png = self.picture
        if png is None:
            return f'<p class="cn-hint">{HINT_ALONE}</p>'
        controls, shown = (", ".join(f"{k} {v}" for k, v in pairs) for pairs in self.caption())
        alt = f"The explorer at {controls}: {shown}"
        src = "data:image/png;base64," + base64.b64encode(png).decode()
        return (
            f'<img class="cn-picture" alt="{html.escape(alt)}" src="{src}">'
            f'<p class="cn-hint">{HINT}</p>'
        )


def _attr(x) -> str:
    """``x`` as text safe in HTML, in an element or a quoted attribute."""
    return html.escape(str(x), quote=True)


def data_json(data) -> str:
    """``data`` as the JSON a ``script`` element holds: no NaN or infinity (JSON has none;
    the browser's ``JSON.parse`` would refuse the page's data), and ``<``, ``>``, ``&`` as
    ``\\u003c`` ... so that no text in it ends the element or opens a comment there
    (``JSON.parse`` reads them back unchanged)."""
    if not isinstance(data, dict):
        raise ValueError(f"data must be a dict, got {validate.type_name(data)}")
    try:
        text = json.dumps(data, separators=(",", ":"), sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as e:
        for key, value in data.items():  # name the value that cannot be written
            try:
                json.dumps(value, allow_nan=False)
            except (TypeError, ValueError) as bad:
                raise ValueError(
                    f"data[{key!r}] must be JSON-ready, with finite numbers only, got {bad}"
                ) from e
        raise ValueError(f"data must have string keys and JSON-ready values, got {e}") from e
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _control_html(c: Control, value) -> str:
    label, name = _attr(c.label), _attr(c.name)
    if c.options:
        options = "".join(
            f'<option value="{_attr(o)}"{" selected" if o == value else ""}>{_attr(o)}</option>'
            for o in c.options
        )
        return f'<label>{label} <select name="{name}">{options}</select></label>'
    return (
        f'<label>{label} <input type="range" name="{name}" min="{_num(c.lo)}" '
        f'max="{_num(c.hi)}" step="{_num(c.step)}" value="{_num(value)}"> '
        f'<span class="cn-readout">{_num(value)}</span></label>'
    )


def _lines(pairs: list[tuple[str, str]], width: int) -> list[str]:
    """``(label, value)`` pairs in lines of about ``width`` characters, spaced as the page
    spaces them, each number bold (matplotlib's mathtext); a pair is never split."""
    lines, length = [""], 0
    for label, value in pairs:
        n = len(label) + 1 + len(value)
        if length and length + 3 + n > width:
            lines, length = [*lines, ""], 0
        bold = f"$\\mathbf{{{value}}}$" if value[-1:].isdigit() else value
        lines[-1] += ("   " if length else "") + f"{label} {bold}"
        length += (3 if length else 0) + n
    return lines


def _png(fig) -> bytes:
    """``fig`` as a PNG at ``DPI`` in 256 colours (a third of the bytes, the same look)."""
    from PIL import Image

    full = io.BytesIO()
    fig.savefig(full, format="png", dpi=DPI, metadata={"Software": None})
    rgb = Image.open(full).convert("RGB")
    image = rgb.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    png = io.BytesIO()
    image.save(png, format="PNG", optimize=True)
    return png.getvalue()


MAX_DECIMALS = 12  # past this many decimals a small number is written with an exponent


def _fixed(value: float, decimals: int) -> str:
    """``value`` with ``decimals`` decimals, rounded as the browser's ``toFixed`` rounds:
    the exact binary value, a tie (0.0625 to 3 decimals) away from zero, where Python's
    format rounds it to even; -0 as 0."""
    exact = decimal.Decimal(value + 0.0)  # + 0.0: the browser writes -0 as 0
    step = decimal.Decimal(1).scaleb(-decimals)
    return format(exact.quantize(step, rounding=decimal.ROUND_HALF_UP), "f")


def _exponent(value: float) -> str:
    """``value`` as the browser's ``toExponential(1)`` writes it: ``3.2e-15``."""
    exact = abs(decimal.Decimal(value))
    e = exact.adjusted()
    mantissa = exact.scaleb(-e).quantize(decimal.Decimal("0.1"), decimal.ROUND_HALF_UP)
    if mantissa >= 10:  # 9.96e-15 rounds up to 1.0e-14
        e, mantissa = e + 1, (mantissa / 10).quantize(decimal.Decimal("0.1"))
    return f"{'-' if value < 0 else ''}{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"


def _significant(text: str) -> int:
    """How many significant digits a number written by ``_fixed`` shows ("0.0040": 2)."""
    return len("".join(c for c in text if c.isdigit()).lstrip("0"))


def shown_text(value: float, digits: int) -> str:
    """A number as its ``<output>`` shows it, the same text as ``shownText`` in ui.js:
    ``digits`` decimals, more for a small number that would read as 0 (then two
    significant digits, 0.0000032), an exponent below 1e-12 (3.2e-15); NaN (not measured
    there) as a dash. Rounded as the browser rounds (``_fixed``)."""
    value = float(value)
    if not math.isfinite(value):
        return "\u2013" if math.isnan(value) else ("-" if value < 0 else "") + "Infinity"
    if abs(value) >= 1e21:  # toFixed writes these as String(value) does
        return repr(value)
    d, text = digits, _fixed(value, digits)
    if value == 0 or _significant(text) > 0:
        return text
    while _significant(text) < 2 and d < MAX_DECIMALS:
        d += 1
        text = _fixed(value, d)
    return text if _significant(text) > 0 else _exponent(value)


def _shown_html(s: Shown, value: float) -> str:
    return (
        f'<span class="cn-q">{_attr(s.label)} <output name="{_attr(s.name)}" '
        f'data-digits="{_attr(s.digits)}" data-value="{_num(value)}">{shown_text(value, s.digits)}'
        "</output></span>"
    )


# Fixed inputs as JSON: float32 values read back exactly ------------------------------------


def numpy_of(x, dtype=None) -> np.ndarray:
    """``x`` as a numpy array: tensors from any device, half precision as float32."""
    if isinstance(x, torch.Tensor):  # numpy has no bfloat16
        x = x.detach().cpu().float() if x.is_floating_point() else x.detach().cpu()
    return np.asarray(x, dtype=dtype)


def shortest(a: np.ndarray) -> list[float]:
    """The float32 values of ``a`` as Python floats in their shortest decimal form."""
    return [float(str(v)) for v in np.asarray(a, dtype=np.float32).ravel()]


def _finite32(x) -> np.ndarray:
    """``x`` as float32, every value finite (the page can hold no other)."""
    a = numpy_of(x, np.float32)
    validate.finite("an embedded array", a)
    return a


def dense(x) -> dict:
    """``{shape, values}``: every value in its shortest form."""
    a = _finite32(x)
    return {"shape": list(a.shape), "values": shortest(a)}


def sparse(x) -> dict:
    """``{shape, index, values}``: the nonzero values only, for maps that are mostly 0."""
    a = _finite32(x)
    index = np.flatnonzero(a)
    return {"shape": list(a.shape), "index": index.tolist(), "values": shortest(a.ravel()[index])}


def packed(x) -> dict:
    """``{shape, float32}``: the little-endian float32 bytes in base64, 5.3 characters a
    value against 10 to 13 in decimal, for large maps with no zeros (probabilities)."""
    a = _finite32(x)
    return {"shape": list(a.shape), "float32": base64.b64encode(a.astype("<f4").tobytes()).decode()}


def array(p: dict) -> torch.Tensor:
    """An embedded array (``dense``, ``sparse`` or ``packed``) as a float64 tensor holding
    exactly its float32 values."""
    if "float32" in p:
        a = np.frombuffer(base64.b64decode(p["float32"]), dtype="<f4").astype(np.float32)
    else:
        a = np.zeros(math.prod(p["shape"]), dtype=np.float32)
        a[p["index"] if "index" in p else slice(None)] = np.asarray(p["values"], dtype=np.float32)
    return torch.from_numpy(a.reshape(p["shape"])).double()


# The numbers of every explorer, computed with the package ----------------------------------

QUANTITIES: dict[str, Callable[[dict, dict], dict]] = {}
NEEDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}  # name: (controls, data keys)


def numbers_of(name: str, controls: tuple[str, ...] = (), data: tuple[str, ...] = ()):
    """Register ``f(controls, data) -> {number: value}`` as explorer ``name``'s numbers;
    it reads the named ``controls`` and ``data`` keys (``quantities`` checks they are there)."""

    def register(f):
        QUANTITIES[name], NEEDS[name] = f, (tuple(controls), tuple(data))
        return f

    return register


def quantities(name: str, controls: dict, data: dict | None = None) -> dict[str, float]:
    """Every number explorer ``name`` shows at ``controls``, computed with the package.

    ``data`` is the explorer's embedded data (``Explorer.data``). The browser computes
    the same numbers in ``quantities.js``; ``tests/test_explorers.py`` holds them equal.
    """
    validate.choice("name", name, tuple(QUANTITIES))
    wanted, needed = NEEDS[name]
    validate.has_keys(f"controls of explorer {name!r}", controls, wanted)
    data = {} if data is None else data
    if not hasattr(data, "keys") or any(k not in data for k in needed):
        missing = [k for k in needed if not hasattr(data, "keys") or k not in data]
        raise ValueError(
            f"data of explorer {name!r} must be its Explorer's data (Explorer.data), holding "
            f"{list(needed)}, missing {missing}"
        )
    return {k: float(v) for k, v in QUANTITIES[name](controls, data).items()}


# The picture of every explorer, drawn with matplotlib --------------------------------------

PICTURES: dict[str, Callable[..., None]] = {}


def picture_of(name: str):
    """Register ``f(fig, controls, numbers, data)`` as explorer ``name``'s picture: it
    draws the explorer at ``controls`` (``numbers``: their ``quantities``) on the empty
    matplotlib Figure ``fig``, as its live figure shows them; ``Explorer.picture`` adds
    the caption."""

    def register(f):
        PICTURES[name] = f
        return f

    return register
