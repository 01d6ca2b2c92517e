/* A student's function beside the package's, in an explorer running as a widget: the
 * global CenterNetYours. Needs ui.js. show(root, sections) fills root's div.cn-yours from
 * the kernel's comparisons (centernet_edu.widgets.yours.compare), one section per
 * function: a note, a plot of both (the package's solid, the student's dashed), a table of
 * both numbers and their difference with the first disagreement marked, and the error
 * the student's function raised, if any.
 */
var CenterNetYours = (function (U) {
  "use strict";
  var COLOURS = ["#1f77b4", "#d62728", "#2ca02c"];

  // A number as the table shows it: six significant digits; text (nan, inf) as it came.
  function text(v) {
    if (v === null || v === undefined) return "\u2013";
    if (typeof v !== "number") return String(v);
    return v === 0 ? "0" : String(Number(v.toPrecision(6)));
  }

  function node(tag, cls, content) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (content !== undefined) e.textContent = content;
    return e;
  }

  function finite(v) { return typeof v === "number" && isFinite(v); }

  function plot(section) {
    var p = section.plot, all = [];
    p.lines.forEach(function (l) { all = all.concat(l.package, l.yours || []); });
    all = all.filter(finite);
    if (!all.length) return null;
    var lo = Math.min.apply(null, all), hi = Math.max.apply(null, all);
    if (lo >= 0) lo = 0;  // a loss or a count: from 0, as the explorer's own plots
    if (hi <= 0) hi = 0;
    if (hi === lo) { hi += 1; lo -= 1; }
    var pad = 0.05 * (hi - lo), xs = p.x, items = 2 * p.lines.length;
    var W = 420, H = 200 + 14 * items;
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("class", "cn-yours-plot");
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.setAttribute("width", String(W));
    svg.setAttribute("height", String(H));
    function nice(v) { return Number(v.toPrecision(3)); }
    var panel = U.panel(svg, { x: 60, y: 12, w: 340, h: 150 }, [xs[0], xs[xs.length - 1]], [lo - pad, hi + pad],
      { xlabel: p.xlabel, xticks: [xs[0], xs[xs.length - 1]].map(nice), yticks: [lo, hi].map(nice) });
    var legend = [];
    p.lines.forEach(function (l, i) {
      var c = COLOURS[i % COLOURS.length];
      function draw(ys, dash, cls) {
        var pts = [];
        ys.forEach(function (y, k) {
          if (finite(y)) pts.push(panel.px(xs[k]).toFixed(2) + "," + panel.py(y).toFixed(2));
        });
        var line = U.el(svg, "polyline", { points: pts.join(" "), fill: "none", stroke: c,
          "stroke-width": dash ? 2.2 : 1.6, "stroke-dasharray": dash || "none" });
        line.setAttribute("class", cls);
      }
      draw(l.package, null, "cn-yours-package");
      legend.push([c, l.label + ", package's"]);
      if (l.yours) {
        draw(l.yours, "6,4", "cn-yours-line");
        legend.push([c, l.label + ", yours", "6,4"]);
      }
    });
    U.legend(svg, 60, 206, legend);  // under the plot: never over a curve
    return svg;
  }

  function table(section) {
    var t = node("table", "cn-yours-table"), head = node("tr");
    ["", "package's", "yours", "difference"].forEach(function (h) { head.appendChild(node("th", "", h)); });
    t.appendChild(head);
    section.rows.forEach(function (r, i) {
      var tr = node("tr", r.agree === false ? "cn-disagree" : r.agree ? "cn-agree" : "");
      if (i === section.first) tr.className += " cn-first-disagreement";
      tr.appendChild(node("td", "cn-yours-label", r.label));
      [["package", r.package], ["yours", r.yours], ["difference", r.difference]].forEach(function (c) {
        var td = node("td", "cn-yours-" + c[0], text(c[1]));
        if (c[1] !== null && c[1] !== undefined) td.setAttribute("data-value", String(c[1]));
        tr.appendChild(td);
      });
      t.appendChild(tr);
    });
    return t;
  }

  function verdict(section) {
    if (section.error) return "";
    if (section.first < 0) return "agrees with the package's on every row";
    return "first disagreement: " + section.rows[section.first].label;
  }

  function show(root, sections) {
    var box = root.querySelector(".cn-yours");
    if (!box) return;
    while (box.firstChild) box.removeChild(box.firstChild);
    (sections || []).forEach(function (s) {
      var part = node("div", "cn-yours-section");
      part.setAttribute("data-role", s.role);
      part.appendChild(node("p", "cn-yours-title", "Your " + s.function + " beside the package's" +
        (s.note ? " (" + s.note + ")" : "") + (verdict(s) ? ": " + verdict(s) : "")));
      if (s.error) {
        var err = node("p", "cn-yours-error", s.function + " raised " + s.error);
        err.setAttribute("role", "alert");
        part.appendChild(err);
      }
      if (s.plot) {
        var svg = plot(s);
        if (svg) part.appendChild(svg);
      }
      part.appendChild(table(s));
      box.appendChild(part);
    });
  }

  var STYLE = ".cn-yours-section{margin:.6em 0}.cn-yours-title{margin:.2em 0}" +
    ".cn-yours-error{color:#b00020;font-weight:bold;white-space:pre-wrap;margin:.2em 0}" +
    ".cn-yours-plot{max-width:100%;height:auto;display:block}" +
    ".cn-yours-table{border-collapse:collapse}.cn-yours-table td,.cn-yours-table th{padding:.1em .6em;text-align:right}" +
    ".cn-yours-table td.cn-yours-label{text-align:left}.cn-disagree td{color:#b00020}" +
    ".cn-first-disagreement{background:#ffe08a;outline:2px solid #b00020}";

  function style() {
    if (document.getElementById("cn-yours-style")) return;
    var s = document.createElement("style");
    s.id = "cn-yours-style";
    s.textContent = STYLE;
    document.head.appendChild(s);
  }

  return { show: function (root, sections) { style(); show(root, sections); }, text: text };
})(CenterNetUI);
