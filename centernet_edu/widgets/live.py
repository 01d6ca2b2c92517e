"""Explorers as widgets in a live kernel: controls that Python reads, sets and observes.

``LiveExplorer`` is an ipywidgets widget built with anywidget: its ES module is the
explorers' own JavaScript (``explorer.scripts()``) with ``yours.js``, which draws a
student's function beside the package's, and ``widget.js``, which mounts the explorer
in the widget and keeps its controls and the kernel in step. Its synced traits:

- ``values``: the controls, ``{name: value}``. Moving a slider sets it; setting it from
  Python (``explorer.values = {"y": 0.3}``, the controls not named keep theirs) moves the
  sliders; ``explorer.observe(f, names="values")`` hears both.
- ``yours``: for each student function it was opened on, ``yours.compare`` at the current
  values, recomputed in the kernel on every change.
- ``view``: the explorer's HTML, which the widget mounts.

Its display bundle also carries the self-contained explorer (``Explorer._repr_html_``, its
picture included) at the current values: what a reader with no kernel sees, in the built
book, or in a notebook's saved outputs, where no widget state is kept.

Without anywidget (the package's ``explorers`` extra) ``live`` returns the self-contained
``Explorer``: it is as live in the browser, but Python cannot see its controls.
"""

from __future__ import annotations

import functools
import html

from .explorer import SCRIPT_DIR, Explorer, scripts
from .yours import compare, roles

try:
    import anywidget
    import traitlets
except ImportError:  # the explorers stay self-contained HTML
    anywidget = None


def live(explorer: Explorer, **yours) -> Explorer:
    """``explorer`` as a ``LiveExplorer`` widget, opened on the student functions in
    ``yours`` (by role: ``yours=``, ``yours_gaussian=``...; None leaves a role out).

    Without anywidget, the explorer itself; a student function then needs anywidget, and
    saying so is better than ignoring it.
    """
    explorer = _explorer(explorer)
    yours = {role: fn for role, fn in yours.items() if fn is not None}
    unknown = sorted(set(yours) - set(roles(explorer.name)))
    if unknown:
        known = ", ".join(roles(explorer.name)) or "none"
        raise ValueError(
            f"the {explorer.name} explorer takes a function as {known}; got {', '.join(unknown)}"
        )
    for role, fn in yours.items():
        if not callable(fn):
            raise ValueError(f"{role} must be a function, got {type(fn).__name__}")
    if anywidget is None:
        if yours:
            raise ValueError(
                "an explorer runs your function in a live kernel, with anywidget: "
                "pip install 'centernet-edu[explorers]'"
            )
        return explorer
    return LiveExplorer(explorer, **yours)


def _explorer(explorer) -> Explorer:
    """``explorer`` as an ``Explorer``: itself, or a ``LiveExplorer``'s at its current values."""
    if LiveExplorer is not None and isinstance(explorer, LiveExplorer):
        return explorer.now()
    if not isinstance(explorer, Explorer):
        raise ValueError(
            "explorer must be an Explorer (what an explorer function such as "
            f"decode_explorer returns), got {type(explorer).__name__}"
        )
    return explorer


@functools.cache
def esm() -> str:
    """The widget's ES module: the explorers' scripts, then ``yours.js`` and ``widget.js``."""
    extra = "\n".join((SCRIPT_DIR / name).read_text() for name in ("yours.js", "widget.js"))
    return scripts() + "\n" + extra


if anywidget is not None:

    class LiveExplorer(anywidget.AnyWidget):
        """An explorer as a widget: see the module's docstring. ``explorer`` is the
        self-contained ``Explorer`` it was made from, at its starting values."""

        _esm = esm()
        values = traitlets.Dict().tag(sync=True)
        yours = traitlets.List().tag(sync=True)
        view = traitlets.Unicode().tag(sync=True)

        def __init__(self, explorer: Explorer, **yours):
            explorer = _explorer(explorer)
            self.explorer, self.functions = explorer, yours
            after = '<div class="cn-yours"></div>' if yours else ""
            super().__init__(values=dict(explorer.values), view=explorer.block(after=after))
            self.observe(self._compare, names="values")
            self._compare()

        @traitlets.validate("values")
        def _check(self, proposal) -> dict:
            # Each value snapped to its control's grid, as the browser snaps a slider;
            # an unknown control or a value out of range raises a ValueError.
            return self.explorer.at(proposal["value"]).values

        def _compare(self, change=None) -> None:
            self.yours = [
                compare(self.name, role, self.values, self.data, fn)
                for role, fn in self.functions.items()
            ]

        # What an Explorer has, at the current values -----------------------------------

        name = property(lambda self: self.explorer.name)
        controls = property(lambda self: self.explorer.controls)
        shown = property(lambda self: self.explorer.shown)
        data = property(lambda self: self.explorer.data)
        size = property(lambda self: self.explorer.size)

        def now(self) -> Explorer:
            """The self-contained explorer at the current values, built once for them:
            its picture is drawn once, however often the widget is shown."""
            held = getattr(self, "_now", None)
            if held is None or held[0] != self.values:
                held = self._now = (dict(self.values), self.explorer.at(self.values))
            return held[1]

        @property
        def numbers(self) -> dict[str, float]:
            """The numbers the explorer shows at the current values."""
            return self.now().numbers

        @property
        def picture(self) -> bytes | None:
            """The explorer's picture at the current values (``Explorer.picture``)."""
            return self.now().picture

        def caption(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
            """The controls and numbers as shown at the current values (``Explorer.caption``)."""
            return self.now().caption()

        def quantities(self, **changes) -> dict[str, float]:
            """The numbers shown at the current values, or with some ``changes`` to them."""
            return self.now().quantities(**changes)

        def __repr__(self) -> str:
            # The text a notebook saves beside the widget: short, like an Explorer's.
            controls = ", ".join(f"{k}={v!r}" for k, v in self.values.items())
            functions = "".join(
                f", {k}={getattr(f, '__name__', f)}" for k, f in self.functions.items()
            )
            return f"{type(self).__name__}({self.name}: {controls}{functions})"

        def _repr_html_(self) -> str:
            note = ""
            if self.functions:
                names = " and ".join(
                    html.escape(getattr(f, "__name__", "yours")) for f in self.functions.values()
                )
                note = (
                    f'<p class="cn-yours-note">Run in a live kernel, this explorer also shows '
                    f"{names} beside the package's functions.</p>"
                )
            return self.now().html(after=note)

        def _repr_mimebundle_(self, **kwargs):
            # ipywidgets 8 displays a widget through this bundle; 7 (Colab's) through
            # _ipython_display_, which IPython prefers, and it has no bundle to extend.
            bundle = super()._repr_mimebundle_(**kwargs)
            if isinstance(bundle, tuple):  # (data, metadata)
                bundle[0]["text/html"] = self._repr_html_()
                return bundle
            return {**(bundle or {}), "text/html": self._repr_html_()}

else:  # pragma: no cover - the name exists, for isinstance checks and the docs
    LiveExplorer = None
