/* Controls, numbers and SVG drawing for the explorers: the global CenterNetUI.
 * Needs formulas.js and quantities.js (the numbers) and views.js (the figures).
 * An explorer is a div.cn-explorer[data-explorer=NAME] holding its inputs, its
 * <output>s, one svg.cn-figure and its data (script.cn-data); mount() makes it live.
 * Until then a static picture (img.cn-picture) and a line (p.cn-hint) stand in for it
 * and the live parts wait hidden in div.cn-live: a notebook opened untrusted runs no script.
 */
var CenterNetUI = (function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  // Colour maps as a few anchors, interpolated linearly (close to matplotlib's).
  var MAPS = {
    magma: [[0, 0, 4], [28, 16, 68], [79, 18, 123], [129, 37, 129], [181, 54, 122],
            [229, 80, 100], [251, 135, 97], [254, 194, 135], [252, 253, 191]],
    viridis: [[68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142],
              [31, 158, 137], [53, 183, 121], [109, 205, 89], [180, 222, 44], [253, 231, 37]],
    diverging: [[33, 102, 172], [103, 169, 207], [209, 229, 240], [247, 247, 247],
                [253, 219, 199], [239, 138, 98], [178, 24, 43]],
  };
  var CLASS_COLOURS = ["#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];

  function colour(name, t) {
    var m = MAPS[name], u = Math.min(Math.max(t, 0), 1) * (m.length - 1), i = Math.min(Math.floor(u), m.length - 2);
    var f = u - i;
    return m[i].map(function (a, k) { return Math.round(a + f * (m[i + 1][k] - a)); });
  }

  // An SVG element with attributes, appended to parent.
  function el(parent, tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    parent.appendChild(e);
    return e;
  }

  // A (rows x cols) map at offset base of values, drawn as an image in box {x, y, w, h}.
  // scale(v) maps a value to [0, 1] before the colour map.
  function heat(svg, values, base, rows, cols, box, cmap, scale) {
    var canvas = document.createElement("canvas");
    canvas.width = cols;
    canvas.height = rows;
    var ctx = canvas.getContext("2d"), img = ctx.createImageData(cols, rows);
    for (var i = 0; i < rows * cols; i++) {
      var rgb = colour(cmap, scale(values[base + i]));
      img.data.set([rgb[0], rgb[1], rgb[2], 255], 4 * i);
    }
    ctx.putImageData(img, 0, 0);
    return el(svg, "image", { x: box.x, y: box.y, width: box.w, height: box.h, href: canvas.toDataURL(),
      preserveAspectRatio: "none", style: "image-rendering: pixelated" });
  }

  // A panel: a box on the SVG and the data range it shows; px(x), py(y) place data.
  function panel(svg, box, xr, yr, opts) {
    opts = opts || {};
    var lx = opts.logx ? Math.log10 : function (v) { return v; };
    var ly = opts.logy ? Math.log10 : function (v) { return v; };
    var p = {
      box: box, svg: svg,
      px: function (v) { return box.x + ((lx(v) - lx(xr[0])) / (lx(xr[1]) - lx(xr[0]))) * box.w; },
      py: function (v) {
        var t = (ly(v) - ly(yr[0])) / (ly(yr[1]) - ly(yr[0]));
        return box.y + (opts.down ? t : 1 - t) * box.h;
      },
    };
    if (opts.title) el(svg, "text", { x: box.x + box.w / 2, y: box.y - 6, "text-anchor": "middle", "font-size": 12 }, opts.title);
    if (opts.frame !== false) el(svg, "rect", { x: box.x, y: box.y, width: box.w, height: box.h, fill: "none", stroke: "#888" });
    if (opts.xlabel) el(svg, "text", { x: box.x + box.w / 2, y: box.y + box.h + 28, "text-anchor": "middle", "font-size": 11 }, opts.xlabel);
    (opts.xticks || []).forEach(function (v) {
      el(svg, "text", { x: p.px(v), y: box.y + box.h + 13, "text-anchor": "middle", "font-size": 10 }, String(v));
    });
    (opts.yticks || []).forEach(function (v) {
      el(svg, "text", { x: box.x - 4, y: p.py(v) + 3, "text-anchor": "end", "font-size": 10 }, String(v));
    });
    return p;
  }

  // A curve through points (x, y) of a panel, cut to its y range.
  function curve(p, xs, ys, stroke, dash) {
    var pts = [];
    xs.forEach(function (x, i) {
      var y = p.py(ys[i]);
      if (isFinite(y)) pts.push(p.px(x).toFixed(2) + "," + Math.min(Math.max(y, p.box.y), p.box.y + p.box.h).toFixed(2));
    });
    return el(p.svg, "polyline", { points: pts.join(" "), fill: "none", stroke: stroke, "stroke-width": 1.8,
      "stroke-dasharray": dash || "none" });
  }

  function rect(p, b, attrs) {
    var a = { x: p.px(b[0]), y: Math.min(p.py(b[1]), p.py(b[3])), width: Math.max(0, p.px(b[2]) - p.px(b[0])),
              height: Math.abs(p.py(b[3]) - p.py(b[1])), fill: "none" };
    Object.keys(attrs || {}).forEach(function (k) { a[k] = attrs[k]; });
    return el(p.svg, "rect", a);
  }

  function legend(svg, x, y, items) {
    items.forEach(function (it, i) {
      el(svg, "line", { x1: x, y1: y + 14 * i, x2: x + 18, y2: y + 14 * i, stroke: it[0], "stroke-width": 2,
        "stroke-dasharray": it[2] || "none" });
      el(svg, "text", { x: x + 22, y: y + 14 * i + 4, "font-size": 10 }, it[1]);
    });
  }

  function range(lo, hi, n) {
    var out = [];
    for (var i = 0; i < n; i++) out.push(lo + ((hi - lo) * i) / (n - 1));
    return out;
  }

  function readControls(root) {
    var c = {};
    root.querySelectorAll(".cn-controls input, .cn-controls select").forEach(function (e) {
      c[e.name] = parseFloat(e.value);
      var shown = e.parentNode.querySelector(".cn-readout");
      if (shown) shown.textContent = e.value;
    });
    return c;
  }

  // How many significant digits a number written by toFixed shows ("0.0040": 2).
  function significant(s) {
    return s.replace(/[^0-9]/g, "").replace(/^0+/, "").length;
  }
  // A number as its <output> shows it (widgets.explorer.shown_text writes the same text):
  // `digits` decimals, more for a small number that would read as 0 (then two significant
  // digits, 0.0000032), an exponent below 1e-12 (3.2e-15); NaN (not measured) as a dash.
  var MAX_DECIMALS = 12;
  function shownText(v, digits) {
    if (isNaN(v)) return "\u2013";
    if (!isFinite(v)) return String(v);
    var d = digits, s = v.toFixed(d);
    if (v === 0 || significant(s) > 0) return s;
    while (significant(s) < 2 && d < MAX_DECIMALS) s = v.toFixed(++d);
    return significant(s) > 0 ? s : v.toExponential(1);
  }

  function writeOutputs(root, q) {
    root.querySelectorAll("output").forEach(function (o) {
      var v = q[o.getAttribute("name")];
      if (v === undefined) return;
      o.setAttribute("data-value", String(v));
      o.textContent = shownText(v, parseInt(o.getAttribute("data-digits") || "2", 10));
    });
  }

  // The page's own font size for labels and numbers; everything at most the column's
  // width: controls and numbers wrap, a slider shrinks, the figure scales down.
  var STYLE = ".cn-explorer{font-family:sans-serif;font-size:inherit;margin:.5em 0;max-width:100%;" +
    "box-sizing:border-box}" +
    ".cn-controls,.cn-numbers{display:flex;flex-wrap:wrap;row-gap:.3em;max-width:100%}" +
    ".cn-controls label{margin-right:1.2em;max-width:100%}" +
    ".cn-controls input{vertical-align:middle;max-width:100%}.cn-readout{white-space:nowrap}" +
    ".cn-numbers{margin:.4em 0}.cn-q{margin-right:1.2em;max-width:100%}" +
    ".cn-q output{font-weight:bold;white-space:nowrap}" +
    ".cn-figure,.cn-picture{max-width:100%;height:auto;display:block}";

  // The live explorer in place of its static picture and hint, which are hidden rather
  // than removed: the page keeps the images its HTML holds.
  function reveal(root) {
    root.querySelectorAll(".cn-picture, .cn-hint").forEach(function (e) { e.style.display = "none"; });
    var live = root.querySelector(".cn-live");
    if (live) live.removeAttribute("hidden");
  }

  // Make root live. opts.onInput(controls), when given, hears every change a reader makes
  // (a widget passes them to its kernel). Returns { set(values) }: move the controls to
  // values and redraw, as a kernel does; null if root was live already.
  function mount(root, opts) {
    if (!root || root.getAttribute("data-live")) return null;
    opts = opts || {};
    root.setAttribute("data-live", "1");
    if (!document.getElementById("cn-explorer-style")) {
      var style = document.createElement("style");
      style.id = "cn-explorer-style";
      style.textContent = STYLE;
      document.head.appendChild(style);
    }
    var name = root.getAttribute("data-explorer"), dataEl = root.querySelector("script.cn-data");
    var data = CenterNetFormulas.prepare(dataEl ? JSON.parse(dataEl.textContent) : {});
    var svg = root.querySelector(".cn-figure");
    var inputs = root.querySelectorAll(".cn-controls input, .cn-controls select");
    function update() {
      var c = readControls(root), q = CenterNetFormulas.quantities(name, c, data);
      writeOutputs(root, q);
      while (svg.firstChild) svg.removeChild(svg.firstChild);
      CenterNetViews[name](svg, c, q, data);
      return c;
    }
    function changed() {
      var c = update();
      if (opts.onInput) opts.onInput(c);
    }
    inputs.forEach(function (e) {
      e.addEventListener("input", changed);
      e.addEventListener("change", changed);
    });
    // A notebook's command mode takes the arrow keys for itself: keep a control's keys
    // with the control, so that a reader can step a slider from the keyboard.
    root.addEventListener("keydown", function (e) {
      if (e.target.matches && e.target.matches("input, select")) e.stopPropagation();
    });
    update();
    reveal(root);  // after the first drawing: should it fail, the picture stays
    return {
      set: function (values) {
        var moved = false;
        inputs.forEach(function (e) {
          if (!(e.name in values) || parseFloat(e.value) === values[e.name]) return;
          e.value = String(values[e.name]);
          moved = true;
        });
        if (moved) update();
      },
    };
  }

  // From the explorer's own script when the browser names it, else every explorer not yet live.
  function mountFrom(script) {
    var root = script && script.closest ? script.closest(".cn-explorer") : null;
    if (root) return mount(root);
    document.querySelectorAll(".cn-explorer").forEach(mount);
  }

  return { el: el, heat: heat, panel: panel, curve: curve, rect: rect, legend: legend, range: range,
           colour: colour, CLASS_COLOURS: CLASS_COLOURS, mount: mount, mountFrom: mountFrom,
           shownText: shownText };
})();
