/* The numbers each explorer shows, from its controls c and its prepared data d: the
 * browser's side of centernet_edu.widgets.quantities, name for name. Needs formulas.js.
 * Constants (the toy box, the stride) come from the data the Python side embeds.
 */
(function (F) {
  "use strict";
  var E = F.explorers;

  // The toy target of chapter 3: one box, its heatmap and the positive's pixel.
  function toyTarget(d) {
    return F.encodeBox(d.box, d.size, d.size);
  }
  // A blob of probability around (x, y): the prediction "shape the prediction" moves.
  function blobLogits(c, d) {
    var n = d.size, out = new Float64Array(n * n);
    for (var y = 0; y < n; y++) {
      for (var x = 0; x < n; x++) {
        var g = Math.exp(-((x - c.x) * (x - c.x) + (y - c.y) * (y - c.y)) / (2 * c.sigma * c.sigma));
        out[y * n + x] = F.logit(d.floor + (c.peak - d.floor) * g);
      }
    }
    return out;
  }
  // The focal terms and gradients of logits against the target hm (alpha 2, beta 4).
  function focalMaps(logits, hm, alpha, beta) {
    var terms = new Float64Array(hm.length), grads = new Float64Array(hm.length);
    for (var i = 0; i < hm.length; i++) {
      terms[i] = F.focalTerm(logits[i], hm[i], alpha, beta);
      grads[i] = F.focalGrad(logits[i], hm[i], alpha, beta);
    }
    return { terms: terms, grads: grads };
  }
  function hitsAndMisses(q, kept, d) {
    if (!d.gt_boxes) return q;
    var boxes = kept.map(function (r) { return r.slice(0, 4).map(function (v) { return v * d.stride; }); });
    var m = F.matchDetections(boxes, kept.map(function (r) { return r[5]; }), d.gt_boxes, d.gt_labels, 0.5);
    q.hits = m.filter(function (j) { return j >= 0; }).length;
    q.false_positives = m.length - q.hits;
    return q;
  }

  E.centre = { quantities: function (c, d) {
    var t = F.encodeBox([(c.cx - d.box_w / 2) / d.R, (c.cy - d.box_h / 2) / d.R,
                         (c.cx + d.box_w / 2) / d.R, (c.cy + d.box_h / 2) / d.R], d.size, d.size);
    return { p_x: c.cx / d.R, p_y: c.cy / d.R, peak_x: t.x, peak_y: t.y,
             offset_x: t.ox, offset_y: t.oy };
  } };

  E.radius = { quantities: function (c) {
    var ref = F.gaussianRadius(c.height, c.width, c.min_overlap, "centernet");
    var fixed = F.gaussianRadius(c.height, c.width, c.min_overlap, "corrected");
    return { r_centernet: ref, r_corrected: fixed,
             sigma_centernet: (2 * Math.trunc(ref) + 1) / 6,
             sigma_corrected: (2 * Math.trunc(fixed) + 1) / 6,
             ratio: ref / Math.max(fixed, 1e-9) };
  } };

  E.radius_cases = { quantities: function (c) {
    var w = c.width, h = c.height, r = c.r, gt = [0, 0, w, h];
    var q = { iou_slid: F.boxIou(gt, [r, r, w + r, h + r]),
              iou_shrunk: F.boxIou(gt, [r, r, w - r, h - r]),
              iou_grown: F.boxIou(gt, [-r, -r, w + r, h + r]),
              r_safe: F.gaussianRadius(h, w, c.min_overlap, "corrected") };
    q.iou_min = Math.min(q.iou_slid, q.iou_shrunk, q.iou_grown);
    return q;
  } };

  E.focal = { quantities: function (c, d) {
    var y = Math.min(c.y, 1 - 1e-12), q = { weight: Math.pow(1 - c.y, c.beta) };
    [[0.1, "neg_at_01"], [0.5, "neg_at_05"], [0.9, "neg_at_09"]].forEach(function (p) {
      q[p[1]] = F.focalTerm(F.logit(p[0]), y, c.alpha, c.beta);
    });
    var t = toyTarget(d), n = d.size, logits = new Float64Array(n * n), sum = 0;
    for (var i = 0; i < n * n; i++) {
      var row = Math.floor(i / n), col = i % n, inside = d.blob[0] <= row && row < d.blob[1];
      logits[i] = inside && d.blob[0] <= col && col < d.blob[1] ? d.inside : d.outside;
    }
    var terms = focalMaps(logits, t.hm, c.alpha, c.beta).terms;
    for (i = 0; i < terms.length; i++) sum += terms[i];
    q.map_sum = sum;
    return q;
  } };

  E.focal_gradient = { quantities: function (c, d) {
    var q = { probability: F.sigmoid(c.x), loss_pos: F.focalTerm(c.x, 1, c.alpha, c.beta),
              grad_pos: F.focalGrad(c.x, 1, c.alpha, c.beta) };
    d.ys.forEach(function (y) {
      q["grad_neg_y" + Math.round(100 * y)] = F.focalGrad(c.x, y, c.alpha, c.beta);
    });
    return q;
  } };

  E.shape = { quantities: function (c, d) {
    var t = toyTarget(d), m = focalMaps(blobLogits(c, d), t.hm, d.alpha, d.beta);
    var pos = 0, neg = 0, big = 0, npos = 0;
    for (var i = 0; i < t.hm.length; i++) {
      if (t.hm[i] === 1) { pos += m.terms[i]; npos++; } else neg += m.terms[i];
      big = Math.max(big, Math.abs(m.grads[i]));
    }
    npos = Math.max(npos, 1);
    return { loss: (pos + neg) / npos, pos: pos / npos, neg: neg / npos,
             grad_peak: m.grads[t.y * d.size + t.x] / npos, grad_max: big / npos };
  } };

  // Without an offset the decoder puts the centre at the cell's middle (+0.5); the
  // cell's corner, R floor(p / R), is the other baseline the chapter names.
  E.offset = { quantities: function (c) {
    var R = c.stride, px = c.x / R, py = c.y / R, cx = Math.floor(px), cy = Math.floor(py);
    var ox = px - cx, oy = py - cy;
    return { cell_x: cx, cell_y: cy, offset_x: ox, offset_y: oy,
             error: Math.hypot(ox - 0.5, oy - 0.5) * R, max_error: R * Math.SQRT2 / 2,
             error_corner: Math.hypot(ox, oy) * R };
  } };

  // L_size as CenterNetLoss computes it for one object: reg_l1_loss's mean over the
  // 2N = 2 numbers compared, with its 1e-4 in the denominator.
  E.size = { quantities: function (c, d) {
    var l1 = Math.abs(c.dw) + Math.abs(c.dh), b = F.centredBoxes(c.width, c.height, c.dw, c.dh);
    var whLoss = l1 / (2 * 1 + 1e-4);
    return { l1: l1, wh_loss: whLoss, weighted: d.wh_weight * whLoss, iou: F.boxIou(b[0], b[1]) };
  } };

  // L_k when every pixel predicts pi, split into positives and negatives, per object.
  function priorLoss(gt, pi) {
    var x = Math.log(pi / (1 - pi)), pos = 0, neg = 0, n = 0;
    for (var i = 0; i < gt.length; i++) {
      if (gt[i] === 1) { pos += F.focalTerm(x, 1, 2, 4); n++; } else neg += F.focalTerm(x, gt[i], 2, 4);
    }
    n = Math.max(n, 1);
    return [pos / n, neg / n];
  }
  E.prior = { priorLoss: priorLoss, quantities: function (c, d) {
    var pi = Math.pow(10, c.log10_pi), parts = priorLoss(d.gt, pi);
    return { pi: pi, bias: Math.log(pi / (1 - pi)), pos: parts[0], neg: parts[1],
             total: parts[0] + parts[1] };
  } };

  // Chapter 6: the recorded run at (lambda_size, lambda_off), or undefined.
  function weightRun(d, whWeight, offWeight) {
    return d.runs.filter(function (r) { return r.wh_weight === whWeight && r.off_weight === offWeight; })[0];
  }
  E.loss_weights = { run: weightRun, quantities: function (c, d) {
    var run = weightRun(d, c.wh_weight, c.off_weight), i = d.step.indexOf(c.step), q = {};
    ["loss", "hm_loss", "wh_loss", "off_loss"].forEach(function (k) { q[k] = run[k][i]; });
    // Each weighted term's share of the gradient on the shared features: lambda_k |g_k|
    // over their sum, |g_k| measured once at initialisation (d.grad_norms).
    var g = d.grad_norms, parts = { hm: g.hm, wh: c.wh_weight * g.wh, off: c.off_weight * g.off };
    var total = parts.hm + parts.wh + parts.off;
    Object.keys(parts).forEach(function (k) { q["grad_share_" + k] = total > 0 ? parts[k] / total : 0; });
    var done = -1; // the last evaluation not after the step; none before the first
    run.eval_step.forEach(function (s, j) { if (s <= c.step) done = j; });
    q.ap50 = done >= 0 ? run.ap50[done] : NaN;
    q.ap50_step = done >= 0 ? run.eval_step[done] : NaN;
    return q;
  } };

  // One snapshot's class-wise heatmap (C, H, W): a view into the stacked (S, C, H, W).
  function snapshotMap(d, i) {
    var s = d.hm_shape, n = s[1] * s[2] * s[3];
    return d.hm.subarray(i * n, (i + 1) * n);
  }
  E.snapshot = { map: snapshotMap, quantities: function (c, d) {
    var i = c.snapshot, s = d.hm_shape, hm = snapshotMap(d, i), peak = -Infinity, peaks = 0;
    var q = { step: d.steps[i] };
    ["loss", "hm_loss", "wh_loss", "off_loss"].forEach(function (k) { q[k] = d.losses[k][i]; });
    for (var j = 0; j < hm.length; j++) peak = Math.max(peak, hm[j]);
    var nms = F.heatmapNms(hm, s[1], s[2], s[3], 3);
    for (j = 0; j < nms.length; j++) if (nms[j] >= c.threshold) peaks++;
    q.peak = peak;
    q.peaks = peaks;
    if (!d.dets) return q;
    var kept = d.dets[i].filter(function (r) { return r[4] >= c.threshold; });
    q.boxes = kept.length;
    return hitsAndMisses(q, kept, d);
  } };

  E.decode = { quantities: function (c, d) {
    var s = d.hm_shape, nms = F.heatmapNms(d.hm, s[0], s[1], s[2], c.kernel), survivors = 0;
    for (var i = 0; i < nms.length; i++) if (nms[i] >= c.threshold) survivors++;
    var dets = F.decodeCtdet(d.hm, d.wh, d.reg, s[0], s[1], s[2], c.K, c.kernel);
    var kept = dets.filter(function (r) { return r[4] >= c.threshold; });
    return hitsAndMisses({ survivors: survivors, kept: kept.length }, kept, d);
  } };

  E.extreme = { quantities: function (c, d) {
    var s = d.hm_c_shape, valid = F.decodeExdet(d, s[0], s[1], s[2], c.K, c.center_thresh, 0.1);
    var shown = valid.filter(function (r) { return r[4] >= c.threshold; });
    return hitsAndMisses({ valid: valid.length, shown: shown.length }, shown, d);
  } };

  F.toyTarget = toyTarget;
  F.blobLogits = blobLogits;
  F.focalMaps = focalMaps;
})(CenterNetFormulas);
