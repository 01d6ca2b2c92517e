/* The live figures: one function per explorer, (svg, controls c, numbers q, data d), drawn
 * afresh on every change. The global CenterNetViews; needs formulas.js and ui.js.
 */
var CenterNetViews = (function (F, U) {
  "use strict";
  var V = {};
  function unit(lo, hi) {
    return function (v) { return (v - lo) / (hi - lo); };
  }
  function logUnit(lo, hi) {
    return function (v) { return (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)); };
  }
  function window2d(map, W, x0, y0, n) {
    var out = new Float64Array(n * n);
    for (var y = 0; y < n; y++) for (var x = 0; x < n; x++) out[y * n + x] = map[(y0 + y) * W + x0 + x];
    return out;
  }
  function arrow(svg, x1, y1, x2, y2, stroke) {
    U.el(svg, "line", { x1: x1, y1: y1, x2: x2, y2: y2, stroke: stroke, "stroke-width": 2 });
    U.el(svg, "circle", { cx: x2, cy: y2, r: 3, fill: stroke });
  }
  function cross(svg, x, y, stroke) {
    U.el(svg, "path", { d: "M" + (x - 7) + " " + y + "h14M" + x + " " + (y - 7) + "v14", stroke: stroke, "stroke-width": 2 });
  }

  V.centre = function (svg, c, q, d) {
    var t = F.encodeBox([(c.cx - d.box_w / 2) / d.R, (c.cy - d.box_h / 2) / d.R,
                         (c.cx + d.box_w / 2) / d.R, (c.cy + d.box_h / 2) / d.R], d.size, d.size);
    var n = 7, x0 = Math.min(Math.max(t.x - 3, 0), d.size - n), y0 = Math.min(Math.max(t.y - 3, 0), d.size - n);
    var p = U.panel(svg, { x: 30, y: 30, w: 280, h: 280 }, [x0, x0 + n], [y0, y0 + n],
      { down: true, title: "p/R = (" + q.p_x.toFixed(3) + ", " + q.p_y.toFixed(3) + ")",
        xticks: [x0, x0 + n], yticks: [y0, y0 + n] });
    U.heat(svg, window2d(t.hm, d.size, x0, y0, n), 0, n, n, p.box, "magma", unit(0, 1));
    U.rect(p, [t.x, t.y, t.x + 1, t.y + 1], { stroke: "white", "stroke-width": 3 });
    arrow(svg, p.px(t.x), p.py(t.y), p.px(t.x + t.ox), p.py(t.y + t.oy), "cyan");
    cross(svg, p.px(q.p_x), p.py(q.p_y), "cyan");
  };

  V.radius = function (svg, c, q) {
    [["centernet", q.r_centernet], ["corrected", q.r_corrected]].forEach(function (v, i) {
      var hm = F.drawGaussian(new Float64Array(64 * 64), 0, 64, 64, 32, 32, Math.max(0, Math.trunc(v[1])), false);
      var p = U.panel(svg, { x: 20 + 300 * i, y: 30, w: 260, h: 260 }, [0, 64], [0, 64],
        { down: true, title: v[0] + ": r = " + v[1].toFixed(2) });
      U.heat(svg, hm, 0, 64, 64, p.box, "magma", unit(0, 1));
      U.rect(p, [32 - c.width / 2, 32 - c.height / 2, 32 + c.width / 2, 32 + c.height / 2],
        { stroke: "#4cc9f0", "stroke-dasharray": "5,3", "stroke-width": 1.5 });
    });
  };

  V.radius_cases = function (svg, c, q) {
    var w = c.width, h = c.height, r = c.r, pad = r + 2, L = Math.max(w, h) + 2 * pad;
    var cases = [["slid by r", [r, r, w + r, h + r], q.iou_slid], ["shrunk by r", [r, r, w - r, h - r], q.iou_shrunk],
                 ["grown by r", [-r, -r, w + r, h + r], q.iou_grown]];
    cases.forEach(function (cs, i) {
      var p = U.panel(svg, { x: 10 + 200 * i, y: 30, w: 180, h: 180 }, [w / 2 - L / 2, w / 2 + L / 2],
        [h / 2 - L / 2, h / 2 + L / 2], { down: true, title: cs[0] + ": IoU " + cs[2].toFixed(3) });
      U.rect(p, [0, 0, w, h], { stroke: "black", "stroke-width": 2 });
      var b = cs[1];
      if (b[2] > b[0] && b[3] > b[1]) {
        U.rect(p, b, { stroke: cs[2] >= c.min_overlap ? "#2ca02c" : "#d62728", "stroke-dasharray": "5,3", "stroke-width": 2 });
      }
    });
  };

  V.focal = function (svg, c, q, d) {
    var ps = U.range(0.001, 0.999, 200), y = Math.min(c.y, 1 - 1e-12);
    var p = U.panel(svg, { x: 50, y: 30, w: 300, h: 240 }, [0, 1], [0, 5],
      { xticks: [0, 0.5, 1], yticks: [0, 1, 2, 3, 4, 5], xlabel: "predicted probability Yhat" });
    U.curve(p, ps, ps.map(function (v) { return -Math.log(v); }), "grey", "2,3");
    U.curve(p, ps, ps.map(function (v) { return F.focalTerm(F.logit(v), 1, c.alpha, c.beta); }), "#1f77b4");
    U.curve(p, ps, ps.map(function (v) { return F.focalTerm(F.logit(v), y, c.alpha, c.beta); }), "#d62728");
    U.legend(svg, 200, 45, [["grey", "cross-entropy, positive", "2,3"], ["#1f77b4", "positive (Y = 1)"],
                            ["#d62728", "negative at Y = " + c.y.toFixed(2)]]);
    var t = F.toyTarget(d), n = d.size, logits = new Float64Array(n * n);
    for (var i = 0; i < n * n; i++) {
      var row = Math.floor(i / n), col = i % n;
      logits[i] = d.blob[0] <= row && row < d.blob[1] && d.blob[0] <= col && col < d.blob[1] ? d.inside : d.outside;
    }
    var terms = F.focalMaps(logits, t.hm, c.alpha, c.beta).terms, top = Math.max.apply(null, terms) || 1;
    var m = U.panel(svg, { x: 400, y: 30, w: 240, h: 240 }, [0, n], [0, n],
      { down: true, title: "per-pixel loss, sum " + q.map_sum.toFixed(2) });
    U.heat(svg, terms, 0, n, n, m.box, "viridis", unit(0, top));
  };

  V.focal_gradient = function (svg, c, q, d) {
    var xs = U.range(-8, 8, 241), colours = ["#fdae61", "#f46d43", "#d73027", "#a50026"], top = 0;
    [1].concat(d.ys).forEach(function (y) {
      xs.forEach(function (x) { top = Math.max(top, Math.abs(F.focalGrad(x, y, c.alpha, c.beta))); });
    });
    top = 1.05 * top || 1;
    var p = U.panel(svg, { x: 50, y: 20, w: 420, h: 250 }, [-8, 8], [-top, top],
      { xticks: [-8, -4, 0, 4, 8], yticks: [-Number(top.toPrecision(2)), 0, Number(top.toPrecision(2))],
        xlabel: "logit z (Yhat = sigmoid z)" });
    U.el(svg, "line", { x1: p.px(-8), x2: p.px(8), y1: p.py(0), y2: p.py(0), stroke: "#ccc" });
    U.curve(p, xs, xs.map(function (x) { return F.focalGrad(x, 1, c.alpha, c.beta); }), "#1f77b4");
    var items = [["#1f77b4", "positive (Y = 1)"]];
    d.ys.forEach(function (y, i) {
      U.curve(p, xs, xs.map(function (x) { return F.focalGrad(x, y, c.alpha, c.beta); }), colours[i % 4]);
      items.push([colours[i % 4], "negative, Y = " + y]);
    });
    U.el(svg, "line", { x1: p.px(c.x), x2: p.px(c.x), y1: p.box.y, y2: p.box.y + p.box.h, stroke: "grey", "stroke-dasharray": "3,3" });
    U.legend(svg, 490, 40, items);
  };

  V.shape = function (svg, c, q, d) {
    var t = F.toyTarget(d), n = d.size, logits = F.blobLogits(c, d), m = F.focalMaps(logits, t.hm, d.alpha, d.beta);
    var probs = logits.map(F.sigmoid), g = 0;
    m.grads.forEach(function (v) { g = Math.max(g, Math.abs(v)); });
    var a = U.panel(svg, { x: 20, y: 30, w: 260, h: 260 }, [0, n], [0, n], { down: true, title: "prediction Yhat, target box dashed" });
    U.heat(svg, probs, 0, n, n, a.box, "magma", unit(0, 1));
    U.rect(a, d.box, { stroke: "#4cc9f0", "stroke-dasharray": "5,3" });
    cross(svg, a.px(t.x + 0.5), a.py(t.y + 0.5), "#4cc9f0");
    var b = U.panel(svg, { x: 320, y: 30, w: 260, h: 260 }, [0, n], [0, n],
      { down: true, title: "dL/dz per pixel, signed sqrt scale (blue: raise, red: lower)" });
    // A signed square root, so the gentle pull on the negatives shows beside the peak's.
    U.heat(svg, m.grads, 0, n, n, b.box, "diverging", function (v) {
      return 0.5 + 0.5 * Math.sign(v) * Math.sqrt(Math.abs(v) / (g || 1));
    });
  };

  V.offset = function (svg, c, q) {
    var R = c.stride, n = Math.max(q.cell_x, q.cell_y) + 2, L = n * R;
    var p = U.panel(svg, { x: 30, y: 30, w: 300, h: 300 }, [-0.5, L + 0.5], [-0.5, L + 0.5],
      { down: true, title: "offset target (" + q.offset_x.toFixed(2) + ", " + q.offset_y.toFixed(2) + ") cells" });
    for (var k = 0; k <= n; k++) {
      U.el(svg, "line", { x1: p.px(0), x2: p.px(L), y1: p.py(k * R), y2: p.py(k * R), stroke: "#ddd" });
      U.el(svg, "line", { y1: p.py(0), y2: p.py(L), x1: p.px(k * R), x2: p.px(k * R), stroke: "#ddd" });
    }
    U.rect(p, [q.cell_x * R, q.cell_y * R, (q.cell_x + 1) * R, (q.cell_y + 1) * R], { fill: "#ff7f0e", "fill-opacity": 0.3 });
    arrow(svg, p.px(q.cell_x * R), p.py(q.cell_y * R), p.px(c.x), p.py(c.y), "#2ca02c");
    // Without the offset the decoder puts the centre at the cell's middle; its corner is R floor(p / R).
    var mx = p.px((q.cell_x + 0.5) * R), my = p.py((q.cell_y + 0.5) * R);
    U.el(svg, "line", { x1: mx, y1: my, x2: p.px(c.x), y2: p.py(c.y), stroke: "#d62728", "stroke-dasharray": "3,3" });
    U.el(svg, "rect", { x: p.px(q.cell_x * R) - 3, y: p.py(q.cell_y * R) - 3, width: 6, height: 6, fill: "#7f7f7f" });
    U.el(svg, "rect", { x: mx - 4, y: my - 4, width: 8, height: 8, fill: "#d62728" });
    U.el(svg, "circle", { cx: p.px(c.x), cy: p.py(c.y), r: 5, fill: "#1f77b4" });
    U.legend(svg, 345, 40, [["#1f77b4", "true centre p"], ["#d62728", "cell's middle: decoded"],
                            ["#d62728", "without offset", "3,3"], ["#7f7f7f", "corner R floor(p / R)"],
                            ["#2ca02c", "offset target"]]);
  };

  V.size = function (svg, c, q) {
    var b = F.centredBoxes(c.width, c.height, c.dw, c.dh);
    var lim = Math.max(c.width, c.height, b[1][2] - b[1][0], b[1][3] - b[1][1]) / 2 + 2;
    var p = U.panel(svg, { x: 30, y: 30, w: 300, h: 300 }, [-lim, lim], [-lim, lim],
      { down: true, title: "|dw| + |dh| = " + q.l1.toFixed(1) + " px, IoU " + q.iou.toFixed(3) });
    U.rect(p, b[0], { stroke: "black", "stroke-width": 2 });
    U.rect(p, b[1], { stroke: "#d62728", "stroke-dasharray": "6,4", "stroke-width": 2 });
  };

  V.prior = function (svg, c, q, d) {
    var pis = U.range(-4, Math.log10(0.9), 120).map(function (e) { return Math.pow(10, e); });
    var parts = pis.map(function (pi) { return CenterNetFormulas.explorers.prior.priorLoss(d.gt, pi); });
    var p = U.panel(svg, { x: 50, y: 30, w: 320, h: 250 }, [1e-4, 1], [1e-3, 1e3],
      { logx: true, logy: true, xticks: [0.0001, 0.01, 1], yticks: [0.001, 1, 1000], xlabel: "prior pi = sigmoid(bias)" });
    U.curve(p, pis, parts.map(function (v) { return v[0]; }), "#1f77b4");
    U.curve(p, pis, parts.map(function (v) { return v[1]; }), "#d62728");
    U.curve(p, pis, parts.map(function (v) { return v[0] + v[1]; }), "black");
    U.el(svg, "line", { x1: p.px(q.pi), x2: p.px(q.pi), y1: p.box.y, y2: p.box.y + p.box.h, stroke: "grey", "stroke-dasharray": "3,3" });
    U.legend(svg, 60, 45, [["#1f77b4", "positives"], ["#d62728", "negatives"], ["black", "L_k"]]);
    var s = d.gt_shape, HW = s[2] * s[3], x = F.logit(q.pi), loss = new Float64Array(HW);
    for (var k = 0; k < s[1]; k++) for (var i = 0; i < HW; i++) loss[i] += F.focalTerm(x, d.gt[k * HW + i], 2, 4);
    var m = U.panel(svg, { x: 410, y: 30, w: 250, h: 250 }, [0, s[3]], [0, s[2]],
      { down: true, title: "loss per pixel, log scale (pi = " + q.pi.toPrecision(3) + ")" });
    U.heat(svg, loss, 0, s[2], s[3], m.box, "viridis", logUnit(1e-6, 10));
  };

  // Chapter 6: the chosen run's unweighted terms against the step (log scale), the run at
  // CenterNetLoss's weights faintly behind; its held-out AP50; the shares of L_det.
  var WEIGHT_TERMS = [["hm_loss", "L_k", "#1f77b4"], ["wh_loss", "L_size", "#ff7f0e"],
                      ["off_loss", "L_off", "#2ca02c"]];
  function powersOfTen(lo, hi) {
    var out = [];
    for (var e = Math.ceil(Math.log10(lo)); e <= Math.floor(Math.log10(hi)); e++) out.push(Math.pow(10, e));
    return out;
  }
  function stepLine(svg, p, step) {
    U.el(svg, "line", { x1: p.px(step), x2: p.px(step), y1: p.box.y, y2: p.box.y + p.box.h, stroke: "grey", "stroke-dasharray": "3,3" });
  }
  function faint(e) {
    e.setAttribute("stroke-opacity", 0.35);
    e.setAttribute("stroke-dasharray", "4,3");
  }
  V.loss_weights = function (svg, c, q, d) {
    var E = F.explorers.loss_weights, run = E.run(d, c.wh_weight, c.off_weight);
    var base = E.run(d, d.compare[0], d.compare[1]), last = d.step[d.step.length - 1], all = [];
    d.runs.forEach(function (r) { WEIGHT_TERMS.forEach(function (t) { all = all.concat(r[t[0]]); }); });
    var lo = Math.max(Math.min.apply(null, all), 1e-4), hi = Math.max(Math.max.apply(null, all), 2 * lo);
    var p = U.panel(svg, { x: 55, y: 30, w: 420, h: 230 }, [0, last], [lo / 1.3, hi * 1.3],
      { logy: true, xticks: [0, last], yticks: powersOfTen(lo / 1.3, hi * 1.3), xlabel: "step",
        title: "unweighted terms at lambda_size " + c.wh_weight + ", lambda_off " + c.off_weight });
    var i = d.step.indexOf(c.step);
    WEIGHT_TERMS.forEach(function (t) {
      var ys = function (r) { return r[t[0]].map(function (v) { return Math.max(v, lo); }); };
      if (base && base !== run) faint(U.curve(p, d.step, ys(base), t[2]));
      U.curve(p, d.step, ys(run), t[2]);
      U.el(svg, "circle", { cx: p.px(c.step), cy: p.py(ys(run)[i]), r: 4, fill: t[2] });
    });
    stepLine(svg, p, c.step);
    var items = WEIGHT_TERMS.map(function (t) { return [t[2], t[1]]; });
    if (base) items.push(["grey", "faint: " + d.compare[0] + ", " + d.compare[1], "4,3"]);
    U.legend(svg, 395, 45, items);
    var a = U.panel(svg, { x: 525, y: 30, w: 200, h: 230 }, [0, last], [0, 1],
      { xticks: [0, last], yticks: [0, 0.5, 1], xlabel: "step", title: "held-out AP50" });
    if (base && base !== run) {
      base.eval_step.forEach(function (s, j) {
        U.el(svg, "circle", { cx: a.px(s), cy: a.py(base.ap50[j]), r: 3, fill: "none", stroke: "grey", "stroke-opacity": 0.6 });
      });
    }
    U.curve(a, run.eval_step, run.ap50, "#9467bd");
    run.eval_step.forEach(function (s, j) {
      U.el(svg, "circle", { cx: a.px(s), cy: a.py(run.ap50[j]), r: s === q.ap50_step ? 5 : 3, fill: "#9467bd",
        stroke: s === q.ap50_step ? "black" : "none" });
    });
    stepLine(svg, a, c.step);
    var shares = [[q.grad_share_hm, "L_k"], [q.grad_share_wh, "size"], [q.grad_share_off, "offset"]], y = 260;
    ["gradient shares on the", "shared features, at", "initialisation"].forEach(function (line, j) {
      U.el(svg, "text", { x: 800, y: 12 + 13 * j, "text-anchor": "middle", "font-size": 11 }, line);
    });
    shares.forEach(function (sh, j) {
      var h = 230 * sh[0];
      y -= h;
      U.el(svg, "rect", { x: 760, y: y, width: 30, height: h, fill: WEIGHT_TERMS[j][2] });
      U.el(svg, "text", { x: 796, y: 60 + 14 * j, "font-size": 10, fill: WEIGHT_TERMS[j][2] },
        sh[1] + " " + Math.round(100 * sh[0]) + "%");
    });
  };

  // The image (if the explorer has one), then what overlay(box) draws, then the ground truth.
  function imagePanel(svg, d, box, title, overlay) {
    var p = U.panel(svg, box, [0, d.image_size[1]], [0, d.image_size[0]], { down: true, title: title });
    if (d.image) U.el(svg, "image", { x: box.x, y: box.y, width: box.w, height: box.h, href: d.image, preserveAspectRatio: "none" });
    if (overlay) overlay(box);
    (d.gt_boxes || []).forEach(function (b, i) {
      U.rect(p, b, { stroke: U.CLASS_COLOURS[d.gt_labels[i] % 6], "stroke-dasharray": "2,3", "stroke-width": 1.5 });
    });
    return p;
  }
  function detections(p, rows, stride) {
    rows.forEach(function (r) {
      var colour = U.CLASS_COLOURS[r[5] % 6];
      U.rect(p, r.slice(0, 4).map(function (v) { return v * stride; }), { stroke: colour, "stroke-width": 2 });
      U.el(p.svg, "text", { x: p.px(r[0] * stride), y: p.py(r[1] * stride) - 2, "font-size": 10, fill: colour }, r[4].toFixed(2));
    });
  }

  // The largest of C maps (C, H, W) at each pixel: one (H, W) picture of every class.
  function classMax(hm, C, HW) {
    var top = new Float64Array(HW);
    for (var k = 0; k < C; k++) for (var i = 0; i < HW; i++) top[i] = Math.max(top[i], hm[k * HW + i]);
    return top;
  }

  // Ticks of a log axis from lo to hi: 1, 2 and 5 times powers of ten, at most 6 of them
  // (only the powers of ten when more would fit), written plainly.
  function logTicks(lo, hi) {
    var all = [], tens = powersOfTen(lo, hi);
    for (var e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      [1, 2, 5].forEach(function (m) {
        var v = Number((m * Math.pow(10, e)).toPrecision(1));
        if (v >= lo && v <= hi) all.push(v);
      });
    }
    return all.length <= 6 || tens.length < 2 ? all : tens;
  }

  // The loss terms at every snapshot against the step (log scales), the current one marked.
  function lossCurves(svg, c, d, box) {
    var terms = [["loss", "L_det", "black"], ["hm_loss", "L_k", "#1f77b4"], ["wh_loss", "L_size", "#ff7f0e"],
                 ["off_loss", "L_off", "#2ca02c"]];
    var all = [];
    terms.forEach(function (t) { all = all.concat(d.losses[t[0]]); });
    var lo = Math.max(Math.min.apply(null, all), 1e-4), hi = Math.max(Math.max.apply(null, all), 2 * lo);
    var first = Math.max(d.steps[0], 1), last = Math.max(d.steps[d.steps.length - 1], 2 * first);
    var p = U.panel(svg, box, [first, last], [lo / 1.5, hi * 1.5],
      { logx: true, logy: true, xticks: [first, last], yticks: logTicks(lo / 1.5, hi * 1.5),
        xlabel: "step (log scale)", title: "loss terms at each snapshot" });
    var xs = d.steps.map(function (s) { return Math.max(s, 1); });
    terms.forEach(function (t) {
      var ys = d.losses[t[0]].map(function (v) { return Math.max(v, lo); });
      U.curve(p, xs, ys, t[2]);
      U.el(svg, "circle", { cx: p.px(xs[c.snapshot]), cy: p.py(ys[c.snapshot]), r: 4, fill: t[2] });
    });
    U.el(svg, "line", { x1: p.px(xs[c.snapshot]), x2: p.px(xs[c.snapshot]), y1: p.box.y, y2: p.box.y + p.box.h,
      stroke: "grey", "stroke-dasharray": "3,3" });
    U.legend(svg, box.x + box.w - 60, box.y + 14, terms.map(function (t) { return [t[2], t[1]]; }));
  }

  V.snapshot = function (svg, c, q, d) {
    var s = d.hm_shape, HW = s[2] * s[3], hm = F.explorers.snapshot.map(d, c.snapshot);
    var top = classMax(hm, s[1], HW);
    var h = U.panel(svg, { x: 20, y: 30, w: 260, h: 260 }, [0, s[3]], [0, s[2]],
      { down: true, title: "Yhat after step " + q.step + ": " + q.peaks + " peaks >= " + c.threshold.toFixed(2) });
    U.heat(svg, top, 0, s[2], s[3], h.box, "magma", unit(0, 1));
    F.topk(F.heatmapNms(hm, s[1], s[2], s[3], 3), s[1], s[2], s[3], Math.min(100, HW)).forEach(function (pk) {
      if (pk.score < c.threshold) return;
      U.el(svg, "circle", { cx: h.px(pk.x + 0.5), cy: h.py(pk.y + 0.5), r: 4, fill: "none", stroke: "cyan", "stroke-width": 1.5 });
    });
    var p = imagePanel(svg, d, { x: 310, y: 30, w: 260, h: 260 },
      d.dets ? "boxes scoring at least " + c.threshold.toFixed(2) : "the image under Yhat", function (box) {
        // Screen blending: the dark background of the map leaves the image as it is.
        var map = U.heat(svg, top, 0, s[2], s[3], box, "magma", unit(0, 1));
        if (d.image) map.setAttribute("style", "image-rendering: pixelated; mix-blend-mode: screen");
      });
    if (d.dets) detections(p, d.dets[c.snapshot].filter(function (r) { return r[4] >= c.threshold; }), d.stride);
    lossCurves(svg, c, d, { x: 630, y: 30, w: 210, h: 260 });
  };

  V.decode = function (svg, c, q, d) {
    var s = d.hm_shape, HW = s[1] * s[2], top = new Float64Array(HW);
    for (var k = 0; k < s[0]; k++) for (var i = 0; i < HW; i++) top[i] = Math.max(top[i], d.hm[k * HW + i]);
    var h = U.panel(svg, { x: 20, y: 30, w: 280, h: 280 }, [0, s[2]], [0, s[1]], { down: true, title: "heatmap and its top " + c.K + " peaks (" + c.kernel + " x " + c.kernel + " max-pool)" });
    U.heat(svg, top, 0, s[1], s[2], h.box, "magma", unit(0, 1));
    F.topk(F.heatmapNms(d.hm, s[0], s[1], s[2], c.kernel), s[0], s[1], s[2], c.K).forEach(function (pk) {
      if (pk.score < 0.05) return;
      var kept = pk.score >= c.threshold;
      U.el(svg, "circle", { cx: h.px(pk.x + 0.5), cy: h.py(pk.y + 0.5), r: 4, fill: kept ? "cyan" : "none", stroke: kept ? "white" : "cyan" });
    });
    var dets = F.decodeCtdet(d.hm, d.wh, d.reg, s[0], s[1], s[2], c.K, c.kernel).filter(function (r) { return r[4] >= c.threshold; });
    detections(imagePanel(svg, d, { x: 330, y: 30, w: 280, h: 280 }, "boxes scoring at least " + c.threshold.toFixed(2)), dets, d.stride);
  };

  V.extreme = function (svg, c, q, d) {
    var s = d.hm_c_shape, rows = F.decodeExdet(d, s[0], s[1], s[2], c.K, c.center_thresh, 0.1)
      .filter(function (r) { return r[4] >= c.threshold; });
    var p = imagePanel(svg, d, { x: 20, y: 30, w: 320, h: 320 }, "groupings scoring at least " + c.threshold.toFixed(2));
    detections(p, rows, d.stride);
    rows.forEach(function (r) {
      for (var j = 0; j < 4; j++) {
        U.el(svg, "circle", { cx: p.px(r[6 + 2 * j] * d.stride), cy: p.py(r[7 + 2 * j] * d.stride), r: 3,
          fill: U.CLASS_COLOURS[r[5] % 6], stroke: "black", "stroke-width": 0.5 });
      }
    });
  };
  return V;
})(CenterNetFormulas, CenterNetUI);
