/* The arithmetic of the book's explorers: the same formulas as centernet_edu's Python.
 *
 * A plain script (no modules, nothing fetched): it defines the global CenterNetFormulas.
 * The explorers' HTML inlines it; tests/test_explorers.py runs it in Node and compares
 * every number with centernet_edu.widgets.quantities, which computes them with the
 * package. Arrays are flat Float64Arrays in C order, (C, H, W) like the tensors.
 * Values the package keeps in float32 are rounded with Math.fround where it does.
 */
var CenterNetFormulas = (function () {
  "use strict";
  var f32 = Math.fround;
  var EPS64 = 2.220446049250313e-16; // numpy's float64 eps, gaussian_2d's cut-off

  // heatmap.py: gaussian_radius, both variants (see its docstring for the three cases).
  function gaussianRadius(h, w, o, variant) {
    var s = h + w, hw = h * w, r;
    if (variant === "corrected") {
      r = [
        (s - Math.sqrt(s * s - (4 * hw * (1 - o)) / (1 + o))) / 2,
        (2 * s - Math.sqrt(4 * s * s - 16 * (1 - o) * hw)) / 8,
        (-2 * o * s + Math.sqrt(4 * o * o * s * s + 16 * o * (1 - o) * hw)) / (8 * o),
      ];
    } else {
      var b2 = 2 * s, b3 = -2 * o * s;
      r = [
        (s + Math.sqrt(s * s - (4 * hw * (1 - o)) / (1 + o))) / 2,
        (b2 + Math.sqrt(b2 * b2 - 16 * (1 - o) * hw)) / 2,
        (b3 + Math.sqrt(b3 * b3 - 16 * o * (o - 1) * hw)) / 2,
      ];
    }
    return Math.min(r[0], r[1], r[2]);
  }

  // heatmap.py: draw_gaussian into map (H, W) at offset base, element-wise max, in place.
  // asFloat32: the map is float32, so the kernel is rounded as the package's copy is.
  function drawGaussian(map, base, H, W, cx, cy, radius, asFloat32) {
    var d = 2 * radius + 1, sigma = d / 6, x0 = Math.trunc(cx), y0 = Math.trunc(cy);
    for (var dy = -radius; dy <= radius; dy++) {
      for (var dx = -radius; dx <= radius; dx++) {
        var x = x0 + dx, y = y0 + dy;
        if (x < 0 || y < 0 || x >= W || y >= H) continue;
        var g = Math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
        if (g < EPS64) g = 0; // the kernel's maximum is 1
        if (asFloat32) g = f32(g);
        var i = base + y * W + x;
        if (g > map[i]) map[i] = g;
      }
    }
    return map;
  }

  // targets.py: encode_ctdet for one box (x1, y1, x2, y2, heatmap pixels) of class 0.
  function encodeBox(box, H, W) {
    var b = box.map(f32);
    b[0] = Math.min(Math.max(b[0], 0), W - 1);
    b[2] = Math.min(Math.max(b[2], 0), W - 1);
    b[1] = Math.min(Math.max(b[1], 0), H - 1);
    b[3] = Math.min(Math.max(b[3], 0), H - 1);
    var h = f32(b[3] - b[1]), w = f32(b[2] - b[0]);
    var cx = f32(f32(b[0] + b[2]) / 2), cy = f32(f32(b[1] + b[3]) / 2);
    var radius = Math.max(0, Math.trunc(gaussianRadius(Math.ceil(h), Math.ceil(w), 0.7)));
    var x = Math.trunc(cx), y = Math.trunc(cy);
    var hm = drawGaussian(new Float64Array(H * W), 0, H, W, x, y, radius, true);
    return { hm: hm, x: x, y: y, ox: cx - x, oy: cy - y, radius: radius, w: w, h: h };
  }

  // losses.py: focal_loss_terms and its derivative with respect to the logit z.
  function logsigmoid(x) {
    return Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x)));
  }
  function sigmoid(x) {
    return 1 / (1 + Math.exp(-x));
  }
  function logit(p) {
    return Math.log(p / (1 - p));
  }
  function focalTerm(x, y, alpha, beta) {
    if (y === 1) return -logsigmoid(x) * Math.pow(sigmoid(-x), alpha);
    return -logsigmoid(-x) * Math.pow(sigmoid(x), alpha) * Math.pow(1 - y, beta);
  }
  // d/dx of the positive term: -s(-x)^a [s(-x) - a s(x) log s(x)];
  // of the negative term: (1 - Y)^b s(x)^a [s(x) - a s(-x) log s(-x)].
  function focalGrad(x, y, alpha, beta) {
    var p = sigmoid(x), q = sigmoid(-x);
    if (y === 1) return -Math.pow(q, alpha) * (q - alpha * p * logsigmoid(x));
    return Math.pow(1 - y, beta) * Math.pow(p, alpha) * (p - alpha * q * logsigmoid(-x));
  }

  // decode.py: heatmap_nms (kernel x kernel max-pool, plateaus survive) and topk.
  function heatmapNms(heat, C, H, W, kernel) {
    var out = new Float64Array(heat.length), r = (kernel - 1) / 2;
    for (var c = 0; c < C; c++) {
      for (var y = 0; y < H; y++) {
        for (var x = 0; x < W; x++) {
          var i = (c * H + y) * W + x, v = heat[i], top = true;
          for (var yy = Math.max(0, y - r); top && yy <= Math.min(H - 1, y + r); yy++) {
            for (var xx = Math.max(0, x - r); xx <= Math.min(W - 1, x + r); xx++) {
              if (heat[(c * H + yy) * W + xx] > v) { top = false; break; }
            }
          }
          out[i] = top ? v : 0;
        }
      }
    }
    return out;
  }
  function bestFirst(a, b) {
    return b.score - a.score || a.order - b.order;
  }
  // The top K of each class, then the top K of those C * K (ties: lower index first).
  function topk(scores, C, H, W, K) {
    var pool = [];
    for (var c = 0; c < C; c++) {
      var cls = [];
      for (var i = 0; i < H * W; i++) cls.push({ score: scores[c * H * W + i], order: i, ind: i });
      cls.sort(bestFirst);
      for (var k = 0; k < K; k++) {
        var p = cls[k];
        pool.push({ score: p.score, order: c * K + k, ind: p.ind, cls: c,
                    x: p.ind % W, y: Math.floor(p.ind / W) });
      }
    }
    return pool.sort(bestFirst).slice(0, K);
  }
  // decode_ctdet for one image: rows x1, y1, x2, y2, score, class (heatmap pixels).
  function decodeCtdet(heat, wh, reg, C, H, W, K, kernel) {
    var HW = H * W;
    return topk(heatmapNms(heat, C, H, W, kernel), C, H, W, K).map(function (p) {
      var cx = p.x + reg[p.ind], cy = p.y + reg[HW + p.ind];
      var hw = wh[p.ind] / 2, hh = wh[HW + p.ind] / 2;
      return [cx - hw, cy - hh, cx + hw, cy + hh, p.score, p.cls];
    });
  }

  // decode_exdet for one image: the valid groupings of K peaks per extreme point, best first.
  function decodeExdet(heads, C, H, W, K, centerThresh, scoreThresh) {
    var HW = H * W, parts = ["t", "l", "b", "r"], cand = {};
    parts.forEach(function (p) {
      cand[p] = topk(heatmapNms(heads["hm_" + p], C, H, W, 3), C, H, W, K).map(function (q) {
        var reg = heads["reg_" + p];
        q.fx = reg ? q.x + reg[q.ind] : q.x + 0.5;
        q.fy = reg ? q.y + reg[HW + q.ind] : q.y + 0.5;
        return q;
      });
    });
    var found = [], order = 0, t, l, b, r;
    for (var it = 0; it < K; it++) for (var il = 0; il < K; il++) for (var ib = 0; ib < K; ib++) {
      for (var ir = 0; ir < K; ir++, order++) {
        t = cand.t[it]; l = cand.l[il]; b = cand.b[ib]; r = cand.r[ir];
        if (t.cls !== l.cls || t.cls !== b.cls || t.cls !== r.cls) continue;
        if (Math.min(t.score, l.score, b.score, r.score) < scoreThresh) continue;
        if (t.y > l.y || t.y > r.y || b.y < l.y || b.y < r.y) continue;
        if (l.x > t.x || l.x > b.x || r.x < t.x || r.x < b.x) continue;
        var cx = Math.floor((l.x + r.x) / 2), cy = Math.floor((t.y + b.y) / 2);
        var centre = heads.hm_c[(t.cls * H + cy) * W + cx];
        if (centre < centerThresh) continue;
        var score = (t.score + l.score + b.score + r.score + 2 * centre) / 6;
        found.push({ score: score, order: order, row: [l.fx, t.fy, r.fx, b.fy, score, t.cls,
          t.fx, t.fy, l.fx, l.fy, b.fx, b.fy, r.fx, r.fy] });
      }
    }
    return found.sort(bestFirst).map(function (g) { return g.row; });
  }

  // boxes.py: box_iou, centred_boxes and match_detections.
  function boxIou(a, b) {
    var ix = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
    var iy = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
    var area = function (r) { return Math.max(0, r[2] - r[0]) * Math.max(0, r[3] - r[1]); };
    var inter = ix * iy, union = area(a) + area(b) - inter;
    return union > 0 ? inter / union : 0;
  }
  function centredBoxes(width, height, dw, dh) {
    var pw = Math.max(width + dw, 0), ph = Math.max(height + dh, 0);
    return [[-width / 2, -height / 2, width / 2, height / 2], [-pw / 2, -ph / 2, pw / 2, ph / 2]];
  }
  function matchDetections(boxes, labels, gtBoxes, gtLabels, iou) {
    var free = gtBoxes.map(function () { return true; });
    return boxes.map(function (box, i) {
      var best = -1, bestIou = 0;
      gtBoxes.forEach(function (g, j) {
        var o = boxIou(box, g);
        if (free[j] && gtLabels[j] === labels[i] && o >= iou && o > bestIou) { best = j; bestIou = o; }
      });
      if (best >= 0) free[best] = false;
      return best;
    });
  }

  // Little-endian float32 bytes in base64 (widgets.explorer.packed) as float64 values.
  function fromBase64(text) {
    var bytes = atob(text), view = new DataView(new ArrayBuffer(bytes.length));
    for (var i = 0; i < bytes.length; i++) view.setUint8(i, bytes.charCodeAt(i));
    var out = new Float64Array(bytes.length / 4);
    for (i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
    return out;
  }

  // Fixed inputs as the explorers embed them: {shape, values} dense or {shape, index,
  // values} sparse, float32 values written in their shortest form, or {shape, float32}.
  function prepare(data) {
    var out = {};
    Object.keys(data || {}).forEach(function (k) {
      var v = data[k];
      if (v && v.shape && v.float32 !== undefined) {
        out[k] = fromBase64(v.float32);
        out[k + "_shape"] = v.shape;
      } else if (v && v.shape && v.values) {
        var n = v.shape.reduce(function (a, b) { return a * b; }, 1), a = new Float64Array(n);
        v.values.forEach(function (x, i) { a[v.index ? v.index[i] : i] = f32(x); });
        out[k] = a;
        out[k + "_shape"] = v.shape;
      } else {
        out[k] = v;
      }
    });
    return out;
  }

  var api = {
    gaussianRadius: gaussianRadius, drawGaussian: drawGaussian, encodeBox: encodeBox,
    sigmoid: sigmoid, logit: logit, logsigmoid: logsigmoid, focalTerm: focalTerm,
    focalGrad: focalGrad, heatmapNms: heatmapNms, topk: topk, decodeCtdet: decodeCtdet,
    decodeExdet: decodeExdet, boxIou: boxIou, centredBoxes: centredBoxes,
    matchDetections: matchDetections, prepare: prepare, explorers: {},
  };
  // Every explorer's numbers from its controls c and prepared data d (CenterNetQuantities
  // in quantities.js fills api.explorers); quantities.js and this file ship together.
  api.quantities = function (name, c, d) {
    return api.explorers[name].quantities(c, d || {});
  };
  return api;
})();
