"""A class of adversarial student submissions for the class grader, with their verdicts.

``write_class(folder)`` writes the class into ``folder`` and returns, for every student
id, the ``ok`` each of the 11 graded exercises must get (True: must pass, False: must not;
an exercise a student does not define is False). A student's id is the stem of a top-level
``.py``/``.ipynb`` file, or the name of a subfolder for the one student who hands in
several files. Nothing here grades anything: a test calls ``write_class``, runs the grader
on the folder and compares. The students, as an adversarial instructor would write them:

Honest students

- ``correct_py``: every exercise, right, written unlike the book's solutions: the radius
  from the cancellation-free root 2c / (-b + sqrt(b^2 - 4ac)), the splat as an outer product
  of two 1-D Gaussians over the map's rows and columns, ``encode_ctdet`` clipping every box
  at once (on the package's ``gaussian_radius``/``draw_gaussian``, which it may build on),
  the focal loss through the log-odds of ``pred`` and ``logsigmoid``, the logits form
  through ``softplus``, the L1 loss by ``torch.gather`` on the flattened map, the size
  loss by a one-hot ``einsum``, NMS by comparing with the 8 neighbours shifted out of a
  ``-inf`` padding, decoding by one top K over all classes and pixels at once,
  ``CenterNetLoss`` as a ``torch.nn.Module`` (on the package's ``focal_loss_with_logits``
  and ``reg_l1_loss``, which it may build on) and the extreme-point loss as a function
  returning the loss alone. All pass.
- ``correct_nb``: chapter 3 of the student edition (written by ``tools/student.py`` from
  ``book/03_focal_loss.ipynb``), filled in: ``my_focal_loss`` in its stub cell, and
  ``my_focal_loss_with_logits`` in a NEW untagged cell below its untouched stub, using a
  helper object (``logsig = torch.nn.LogSigmoid()``) and a tuple constant
  (``ALPHA, BETA = 2, 4``) that the new cell defines. Both pass (a loader that keeps only
  the plain definitions of the cells it does not know drops both names: it must not).
- ``syntax_nb``: the same chapter, ``my_focal_loss``'s cell a syntax error, the logits
  answer below it right: only ``focal_loss_with_logits`` passes.
- ``split_folder/``: one student, two files: ``part_a.py`` (radius by ``numpy.roots``,
  splat by plain loops) and ``part_b.ipynb`` (a plain notebook with a magic: the L1 loss
  by loops over the slots, decoding on the package's ``heatmap_nms``, which it may build
  on, with one full sort). All four pass.
- ``=1+1``: a correct radius under a file name a spreadsheet reads as a formula. Passes.
- ``float32_only``: a focal loss that casts to float32 inside, otherwise right: a float32
  loss for float64 inputs. Passes by default, judged at float32 precision (with a note).
  An assignment that requires float64 results must fail it, and must tell it by the
  result's dtype: on the checker's cases its values lie within the float64 tolerance.

Classic mistakes

- ``classic_rounded_offset``: ``encode_ctdet`` whose offset is taken from the rounded
  centre (round half up), not the floored one. Fails.
- ``classic_far_border``: ``draw_gaussian`` whose window ends one pixel short at the far
  borders (``min(W - 1, x + r + 1)``) and ``encode_ctdet`` clipping to ``W``/``H`` instead
  of ``W - 1``/``H - 1``. Both fail.

The package's answer passed off as one's own (each must fail)

- ``wrapper``: a one-line wrapper of ``centernet_edu.reg_l1_loss`` (looked up when called),
  and ``my_size_loss`` calling ``reg_l1_loss`` captured by ``from ... import ... as`` when
  the file loads (the size-loss exercise's package function is ``reg_l1_loss``).
- ``partial``: ``my_focal_loss = functools.partial(centernet_edu.focal_loss)``.
- ``lambda_``: ``heatmap_nms = lambda heat: centernet_edu.heatmap_nms(heat)``.
- ``subclass``: ``class CenterNetLoss(centernet_edu.CenterNetLoss): pass`` and its
  ``ExtremeNetLoss`` twin.

Attacks on the grader (each defines wrong or no answers unless said)

- ``patch_checker``: a constant-zero focal loss that, at load time, makes itself the
  checker's reference, replaces every ``grade.CHECKERS`` entry by a passing report,
  widens ``judge.TOLERANCE`` to 1e9, replaces ``judge._compare`` and makes ``Report.ok``
  always True. Fails.
- ``patch_torch``: constant-zero losses (six exercises) and ``torch.isclose``,
  ``torch.allclose``, ``torch.equal``, ``numpy.allclose``, ``numpy.isclose``,
  ``numpy.array_equal`` patched to say "equal" (all-True arrays of the right shape). All
  fail.
- ``forge_fds``: at load time writes forged "loaded"/"result: ok" messages for every
  exercise to every open file descriptor, as JSON lines and as 4- and 8-byte
  length-prefixed frames (JSON and pickle; the pickle, if a grader ever unpickles it,
  sets ``os.environ[PWNED_ENV]`` in that process), then ``os._exit(0)``. Everything fails.
- ``malformed``: a correct ``my_heatmap_nms`` whose first call writes random bytes and
  huge bogus length prefixes to every open descriptor before returning normally. A
  corrupted channel counts against it: fails.
- ``kill_server``: at load time SIGKILLs its parent process (never PID 1), then defines a
  correct radius. The grader survives and the radius passes.
- ``fork_bomb``: at load time forks a bounded bomb (8 processes in all; the 7 children
  ignore SIGTERM/SIGINT, hold every inherited descriptor and sleep 300 s), then defines a
  correct splat, which passes.
- ``sleeper``: starts ``sleep 300`` in a new session (``subprocess.Popen``) and an
  ``os.fork()`` child that calls ``os.setsid()``, ignores SIGTERM and sleeps 300 s; a
  correct focal loss, which passes.
- ``000_vandal``: sorts first. At load time overwrites the other ``.py``/``.ipynb`` files of
  this class (files carrying ``MARKER``, so nothing else is ever touched) in its own
  folder, its parent, the folder in ``$PWD``, its working directory, the folders its
  ancestors were started on (the grader's SUBMISSIONS among them, read from
  ``/proc/PID/cmdline``), and one level below each, with
  ``def my_focal_loss(pred, gt): return 0``; a correct L1 loss, which
  passes. Run on a private copy in a folder of its own, it harms no classmate: every other
  expectation assumes exactly that.
- ``loops_forever``: ``my_heatmap_nms`` loops forever (fails); ``my_focal_loss``, graded
  before it, and ``decode_ctdet`` (on the package's ``heatmap_nms``), graded after it in a
  new process, pass.
- ``interrupt``: ``my_focal_loss`` raises KeyboardInterrupt (fails); ``my_size_loss``,
  graded after it, passes.

Leftovers: the forked children of ``fork_bomb`` and ``sleeper`` name themselves
(``/proc/PID/comm``) with one of ``LEFTOVER_COMMS``, and ``sleeper``'s ``sleep 300`` carries
``LEFTOVER_ENV`` in its environment, so a test can check that none outlives grading.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tempfile
import textwrap
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]

EXERCISES = (
    "gaussian_radius",
    "draw_gaussian",
    "encode_ctdet",
    "focal_loss",
    "focal_loss_with_logits",
    "reg_l1_loss",
    "size_loss",
    "heatmap_nms",
    "decode_ctdet",
    "CenterNetLoss",
    "ExtremeNetLoss",
    "boxes_from_targets",
    "draw_elliptic_gaussian",
    "focal_loss_per_image",
    "norm_reg_l1_loss",
    "dense_size_loss",
    "stacked_centernet_loss",
    "oracle_fill",
    "group_agnostic",
)

# Every submission carries MARKER (a comment, or a notebook's metadata); the vandal only
# overwrites files that carry it. It is built by concatenation so that this file, which
# never carries it, is never a target.
MARKER = "GRADING-CLASS-" + "SUBMISSION"
LEFTOVER_COMMS = ("gc_forkbomb", "gc_sleeper")
LEFTOVER_ENV = "GRADING_CLASS_LEFTOVER"
PWNED_ENV = "GRADING_CLASS_PWNED"

__all__ = [
    "EXERCISES",
    "LEFTOVER_COMMS",
    "LEFTOVER_ENV",
    "MARKER",
    "PWNED_ENV",
    "write_class",
]


def _src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


# Correct answers, reused by several students --------------------------------------------

BOOK_RADIUS = _src(
    """
    def my_gaussian_radius(height, width, min_overlap=0.7):
        h, w, o = float(height), float(width), float(min_overlap)
        a1, b1, c1 = 1, h + w, w * h * (1 - o) / (1 + o)
        r1 = (b1 - math.sqrt(b1 ** 2 - 4 * a1 * c1)) / (2 * a1)
        a2, b2, c2 = 4, 2 * (h + w), (1 - o) * w * h
        r2 = (b2 - math.sqrt(b2 ** 2 - 4 * a2 * c2)) / (2 * a2)
        a3, b3, c3 = 4 * o, -2 * o * (h + w), (o - 1) * w * h
        r3 = (b3 + math.sqrt(b3 ** 2 - 4 * a3 * c3)) / (2 * a3)
        return min(r1, r2, r3)
    """
)

FOCAL_MASKED = _src(
    """
    def my_focal_loss(pred, gt):
        pos = gt == 1
        neg = ~pos
        pos_loss = (torch.log(pred[pos]) * (1 - pred[pos]) ** 2).sum()
        neg_loss = (torch.log(1 - pred[neg]) * pred[neg] ** 2 * (1 - gt[neg]) ** 4).sum()
        n = int(pos.sum())
        return -(pos_loss + neg_loss) / max(n, 1)
    """
)

L1_INDEXED = _src(
    """
    def {name}(output, mask, ind, target):
        B, D, H, W = output.shape
        rows, cols = ind // W, ind % W
        images = torch.arange(B)[:, None]
        pred = output.permute(0, 2, 3, 1)[images, rows, cols]  # (B, M, D)
        m = mask.to(output.dtype)[..., None]
        return (torch.abs(pred - target) * m).sum() / (m.sum() * D + 1e-4)
    """
)


# The students ---------------------------------------------------------------------------

CORRECT_PY = _src(
    '''
    """Every exercise, in plain torch, numpy and math."""
    import math

    import numpy as np
    import torch
    import torch.nn.functional as F

    import centernet_edu as ce  # only what an exercise may build on


    def gaussian_radius(height, width, min_overlap=0.7):
        """The corrected radius: each root as 2c / (-b + sqrt(b^2 - 4ac)), no cancellation."""
        h, w, o = float(height), float(width), float(min_overlap)
        s, p = h + w, h * w
        if p == 0:
            return 0.0

        def smaller_root(a, b, c):  # of a r^2 + b r + c = 0, with b < 0 < c
            return 2 * c / (-b + math.sqrt(b * b - 4 * a * c))

        slid = smaller_root(1.0, -s, p * (1 - o) / (1 + o))
        shrunk = smaller_root(4.0, -2 * s, (1 - o) * p)
        # 4o r^2 + 2os r - c = 0: the positive root is 2c / (b + sqrt(b^2 + 4ac))
        c = (1 - o) * p
        grown = 2 * c / (2 * o * s + math.sqrt((2 * o * s) ** 2 + 16 * o * c))
        return min(slid, shrunk, grown)


    def my_draw_gaussian(heatmap, center, radius):
        """A separable splat: an outer product of one Gaussian per axis, on the map's grid."""
        r = int(radius)
        x, y = int(center[0]), int(center[1])
        H, W = heatmap.shape
        two_var = 2 * ((2 * r + 1) / 6) ** 2
        rows = np.arange(max(0, y - r), min(H, y + r + 1))
        cols = np.arange(max(0, x - r), min(W, x + r + 1))
        if rows.size == 0 or cols.size == 0:
            return heatmap
        g = np.outer(np.exp(-((rows - y) ** 2) / two_var), np.exp(-((cols - x) ** 2) / two_var))
        g[g < np.finfo(np.float64).eps] = 0  # the kernel's maximum is its centre's 1
        window = heatmap[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        np.maximum(window, g, out=window, casting="unsafe")
        return heatmap


    def encode_ctdet(boxes, labels, num_classes, output_size, max_objs=128):
        """Every box clipped at once; the package's radius rule and splat draw the map."""
        H, W = output_size
        b = np.array(boxes, dtype=np.float32).reshape(-1, 4)[:max_objs]
        lab = np.array(labels, dtype=np.int64).reshape(-1)[:max_objs]
        xs = np.clip(b[:, [0, 2]], 0, W - 1)
        ys = np.clip(b[:, [1, 3]], 0, H - 1)
        size = np.stack([xs[:, 1] - xs[:, 0], ys[:, 1] - ys[:, 0]], 1)  # (n, 2): w, h
        centre = np.stack([(xs[:, 0] + xs[:, 1]) / 2, (ys[:, 0] + ys[:, 1]) / 2], 1)
        centre = centre.astype(np.float32)
        pixel = np.floor(centre).astype(np.int64)
        valid = (size > 0).all(1)
        hm = np.zeros((num_classes, H, W), np.float32)
        for k in np.flatnonzero(valid):
            w, h = size[k]
            r = max(0, int(ce.gaussian_radius(math.ceil(h), math.ceil(w))))
            ce.draw_gaussian(hm[lab[k]], (pixel[k, 0], pixel[k, 1]), r)
        wh = np.zeros((max_objs, 2), np.float32)
        reg = np.zeros((max_objs, 2), np.float32)
        ind = np.zeros(max_objs, np.int64)
        n = len(b)
        wh[:n] = np.where(valid[:, None], size, 0)
        reg[:n] = np.where(valid[:, None], centre - pixel, 0)
        ind[:n] = np.where(valid, pixel[:, 1] * W + pixel[:, 0], 0)
        mask = np.zeros(max_objs, np.uint8)
        mask[:n] = valid
        out = {"hm": hm, "wh": wh, "reg": reg, "ind": ind, "reg_mask": mask}
        return {k: torch.from_numpy(v) for k, v in out.items()}


    def my_focal_loss(pred, gt):
        """L_k through the log-odds: log Yhat = logsigmoid(z), log(1 - Yhat) = logsigmoid(-z)."""
        z = torch.log(pred) - torch.log1p(-pred)
        log_p, log_q = F.logsigmoid(z), F.logsigmoid(-z)
        pos = gt == 1
        pos_sum = ((1 - pred) ** 2 * log_p).masked_fill(~pos, 0).sum()
        neg_sum = ((1 - gt) ** 4 * pred ** 2 * log_q).masked_fill(pos, 0).sum()
        return -(pos_sum + neg_sum) / torch.clamp(pos.sum(), min=1)


    def focal_loss_with_logits(logits, gt):
        """L_k from logits with softplus: -log sigmoid(x) = softplus(-x), 1 - sigmoid(x) = exp(-softplus(x))."""
        minus_log_p, minus_log_q = F.softplus(-logits), F.softplus(logits)
        pos = gt.eq(1)
        at_centres = minus_log_p * torch.exp(-2 * minus_log_q)
        elsewhere = minus_log_q * torch.exp(-2 * minus_log_p) * (1 - gt) ** 4
        return torch.where(pos, at_centres, elsewhere).sum() / pos.sum().clamp(min=1)


    def reg_l1_loss(output, mask, ind, target):
        """torch.gather on the flattened map, pixels first."""
        B, D = output.shape[:2]
        flat = output.flatten(2).transpose(1, 2)  # (B, H*W, D)
        pred = torch.gather(flat, 1, ind.long().unsqueeze(2).expand(-1, -1, D))
        m = mask.to(output.dtype).unsqueeze(2)
        return ((pred - target).abs() * m).sum() / (D * m.sum() + 1e-4)


    def my_size_loss(output, mask, ind, target):
        """A one-hot einsum picks each slot's pixel."""
        B, D, H, W = output.shape
        pick = F.one_hot(ind.long(), H * W).to(output.dtype)  # (B, M, H*W)
        pred = torch.einsum("bmp,bdp->bmd", pick, output.reshape(B, D, H * W))
        weight = mask.to(output.dtype)
        per_slot = (pred - target).abs().sum(2)
        return (per_slot * weight).sum() / (weight.sum() * D + 1e-4)


    def my_heatmap_nms(heat):
        """A pixel survives when no neighbour (shifted out of a -inf padding) is larger."""
        H, W = heat.shape[-2:]
        padded = F.pad(heat, (1, 1, 1, 1), value=float("-inf"))
        keep = torch.ones_like(heat, dtype=torch.bool)
        for dy in range(3):
            for dx in range(3):
                keep &= heat >= padded[..., dy : dy + H, dx : dx + W]
        return torch.where(keep, heat, torch.zeros_like(heat))


    def decode_ctdet(heat, wh, reg=None, K=100):
        """One top K over every class and pixel at once."""
        B, C, H, W = heat.shape
        scores, flat = my_heatmap_nms(heat).reshape(B, C * H * W).topk(K)
        classes = torch.div(flat, H * W, rounding_mode="floor")
        pixel = flat % (H * W)
        ys, xs = torch.div(pixel, W, rounding_mode="floor"), pixel % W
        images = torch.arange(B)[:, None]
        if reg is None:
            cx, cy = xs.to(heat.dtype) + 0.5, ys.to(heat.dtype) + 0.5
        else:
            cx = xs.to(heat.dtype) + reg[images, 0, ys, xs]
            cy = ys.to(heat.dtype) + reg[images, 1, ys, xs]
        w, h = wh[images, 0, ys, xs], wh[images, 1, ys, xs]
        columns = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, scores, classes.to(heat.dtype)]
        return torch.stack(columns, dim=-1)


    class CenterNetLoss(torch.nn.Module):
        """L_det on the package's focal_loss_with_logits and reg_l1_loss (allowed here)."""

        def __init__(self, wh_weight=0.1, off_weight=1.0):
            super().__init__()
            self.wh_weight, self.off_weight = wh_weight, off_weight

        def forward(self, outputs, batch):
            hm = ce.focal_loss_with_logits(outputs["hm"], batch["hm"])
            wh = ce.reg_l1_loss(outputs["wh"], batch["reg_mask"], batch["ind"], batch["wh"])
            off = ce.reg_l1_loss(outputs["reg"], batch["reg_mask"], batch["ind"], batch["reg"])
            loss = hm + self.wh_weight * wh + self.off_weight * off
            return loss, {"hm_loss": hm.detach(), "wh_loss": wh.detach(), "off_loss": off.detach()}


    def my_extreme_net_loss(outputs, batch):
        """The loss alone, on this file's own focal and L1 losses."""
        loss = 0
        for part in "tlbrc":
            loss = loss + focal_loss_with_logits(outputs["hm_" + part], batch["hm_" + part])
        for part in "tlbr":
            loss = loss + reg_l1_loss(
                outputs["reg_" + part], batch["reg_mask"], batch["ind_" + part], batch["reg_" + part]
            )
        return loss


    # The variants whose answers the chapters leave to the student ----------------------


    def my_boxes_from_targets(wh, reg, ind, reg_mask, output_size):
        W = int(output_size[1])
        rows = [k for k in range(len(reg_mask)) if int(reg_mask[k])]
        boxes = torch.zeros((len(rows), 4), dtype=wh.dtype)
        for i, k in enumerate(rows):
            cx = int(ind[k]) % W + reg[k, 0]
            cy = int(ind[k]) // W + reg[k, 1]
            w, h = wh[k, 0], wh[k, 1]
            boxes[i] = torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
        return boxes


    def my_draw_elliptic_gaussian(heatmap, center, radius_x, radius_y):
        rx, ry = int(radius_x), int(radius_y)
        sx, sy = (2 * rx + 1) / 6, (2 * ry + 1) / 6
        x, y = int(center[0]), int(center[1])
        H, W = heatmap.shape
        for row in range(max(0, y - ry), min(H, y + ry + 1)):
            for col in range(max(0, x - rx), min(W, x + rx + 1)):
                g = math.exp(-((col - x) ** 2) / (2 * sx * sx) - (row - y) ** 2 / (2 * sy * sy))
                heatmap[row, col] = max(heatmap[row, col], g)
        return heatmap


    def my_focal_loss_per_image(pred, gt):
        total = 0
        for p, g in zip(pred, gt):
            pos = g == 1
            n = int(pos.sum())
            pos_part = ((1 - p[pos]) ** 2 * torch.log(p[pos])).sum()
            neg = ~pos
            neg_part = ((1 - g[neg]) ** 4 * p[neg] ** 2 * torch.log(1 - p[neg])).sum()
            total = total - (pos_part + neg_part) / max(n, 1)
        return total / len(pred)


    def my_norm_reg_l1_loss(output, mask, ind, target):
        B, D = output.shape[:2]
        flat = output.flatten(2)  # (B, D, H W)
        pred = torch.stack([flat[b][:, ind[b]].T for b in range(B)])  # (B, M, D)
        m = mask.to(pred.dtype).unsqueeze(2).repeat(1, 1, D)
        return (m * (pred / (target + 1e-4) - 1)).abs().sum() / (m.sum() + 1e-4)


    def my_dense_size_loss(wh, dense_wh, dense_wh_mask):
        return (dense_wh_mask * (wh - dense_wh)).abs().sum() / (dense_wh_mask.sum() + 1e-4)


    def my_stacked_centernet_loss(outputs_list, batch):
        stacks = [CenterNetLoss()(out, batch)[1] for out in outputs_list]
        mean = {k: sum(s[k] for s in stacks) / len(stacks) for k in stacks[0]}
        return mean["hm_loss"] + 0.1 * mean["wh_loss"] + mean["off_loss"]


    def my_oracle_fill(values, ind, height, width):
        B, M, D = values.shape
        out = torch.zeros(B, D, height, width, dtype=values.dtype)
        for b in range(B):
            seen, front = set(), []
            for j in range(M):
                if int(ind[b, j]) > 0:
                    y, x = divmod(int(ind[b, j]), width)
                    out[b, :, y, x] = values[b, j]
                    seen.add((x, y))
                    front.append((x, y, values[b, j]))  # each slot spreads its own value
            while front:  # one ring of 4-neighbours at a time, in the queue's order
                ring = []
                for x, y, value in front:
                    for nx, ny in ((x, y + 1), (x, y - 1), (x + 1, y), (x - 1, y)):
                        if 0 <= nx < width and 0 <= ny < height and (nx, ny) not in seen:
                            out[b, :, ny, nx] = value
                            seen.add((nx, ny))
                            ring.append((nx, ny, value))
                front = ring
        return out


    def my_group_agnostic(t, l, b, r, hm_c, score_thresh=0.1, center_thresh=0.1):
        K = t.shape[0]
        score = torch.full((K, K, K, K), -1.0, dtype=t.dtype)
        cls = torch.full((K, K, K, K), -1, dtype=torch.int64)
        best, best_cls = hm_c.max(0)
        for i in range(K):
            for j in range(K):
                for k in range(K):
                    for m in range(K):
                        (st, tx, ty), (sl, lx, ly) = t[i].tolist(), l[j].tolist()
                        (sb, bx, by), (sr, rx, ry) = b[k].tolist(), r[m].tolist()
                        if min(st, sl, sb, sr) < score_thresh:
                            continue
                        if not (ty <= min(ly, ry) and by >= max(ly, ry)):
                            continue
                        if not (lx <= min(tx, bx) and rx >= max(tx, bx)):
                            continue
                        cx, cy = int((lx + rx) // 2), int((ty + by) // 2)
                        sc = best[cy, cx]
                        if sc >= center_thresh:
                            score[i, j, k, m] = (t[i, 0] + l[j, 0] + b[k, 0] + r[m, 0] + 2 * sc) / 6
                            cls[i, j, k, m] = best_cls[cy, cx]
        return score, cls


    if __name__ == "__main__":  # the grader never runs this
        from centernet_edu.exercises import check_focal_loss

        print(check_focal_loss(my_focal_loss))
    '''
)

NB_FOCAL_ANSWER = _src(
    '''
    def my_focal_loss(pred, gt):
        """L_k of probabilities pred = Yhat and targets gt = Y, both (B, C, H, W): one number."""
        is_centre = gt.eq(1)
        n = is_centre.sum()
        centre_terms = (1 - pred).pow(2) * pred.log()
        other_terms = (1 - gt).pow(4) * pred.pow(2) * (1 - pred).log()
        total = centre_terms[is_centre].sum() + other_terms[~is_centre].sum()
        return -total / n.clamp(min=1)
    '''
)

NB_LOGITS_NEW_CELL = _src(
    '''
    # My answer, in a cell of my own below the stub.
    logsig = torch.nn.LogSigmoid()
    ALPHA, BETA = 2, 4


    def my_focal_loss_with_logits(logits, gt):
        """L_k of logits x (Yhat = sigmoid(x)) and targets gt = Y, both (B, C, H, W)."""
        pos = gt == 1
        log_p, log_q = logsig(logits), logsig(-logits)  # log Yhat, log(1 - Yhat)
        p, q = log_p.exp(), log_q.exp()
        terms = torch.where(pos, q**ALPHA * log_p, (1 - gt) ** BETA * p**ALPHA * log_q)
        return -terms.sum() / max(int(pos.sum()), 1)
    '''
)

NB_SYNTAX_ERROR = _src(
    '''
    def my_focal_loss(pred, gt)
        """L_k of probabilities pred = Yhat and targets gt = Y, both (B, C, H, W): one number."""
        return -(torch.log(pred) * (1 - pred) ** 2).sum()
    '''
)

NB_LOGITS_IN_STUB = _src(
    '''
    def my_focal_loss_with_logits(logits, gt):
        """L_k of logits x (Yhat = sigmoid(x)) and targets gt = Y, both (B, C, H, W)."""
        pos = gt.eq(1)
        a, b = F.softplus(-logits), F.softplus(logits)  # -log Yhat, -log(1 - Yhat)
        terms = torch.where(pos, a * torch.exp(-2 * b), b * torch.exp(-2 * a) * (1 - gt) ** 4)
        return terms.sum() / pos.sum().clamp(min=1)
    '''
)

SPLIT_PART_A = _src(
    '''
    """My radius and my splat (the losses and the decoder are in part_b.ipynb)."""
    import math

    import numpy as np


    def gaussian_radius(height, width, min_overlap=0.7):
        h, w, o = float(height), float(width), float(min_overlap)
        slid = np.roots([1.0, -(h + w), h * w * (1 - o) / (1 + o)]).real.min()
        shrunk = np.roots([4.0, -2 * (h + w), (1 - o) * h * w]).real.min()
        grown = np.roots([4 * o, 2 * o * (h + w), -(1 - o) * h * w]).real.max()
        return float(min(slid, shrunk, grown))


    def draw_gaussian(heatmap, center, radius):
        r = int(radius)
        cx, cy = int(center[0]), int(center[1])
        sigma = (2 * r + 1) / 6
        H, W = heatmap.shape
        for y in range(max(0, cy - r), min(H, cy + r + 1)):
            for x in range(max(0, cx - r), min(W, cx + r + 1)):
                g = math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sigma * sigma))
                if g < np.finfo(np.float64).eps:
                    g = 0.0
                if g > heatmap[y, x]:
                    heatmap[y, x] = g
        return heatmap
    '''
)

SPLIT_PART_B_CELLS = (
    _src(
        """
        %matplotlib inline
        import torch
        from centernet_edu import heatmap_nms  # decoding may build on it
        """
    ),
    _src(
        """
        def my_reg_l1_loss(output, mask, ind, target):
            B, D, H, W = output.shape
            total = output.new_zeros(())
            for b in range(B):
                for k in range(ind.shape[1]):
                    if mask[b, k]:
                        y, x = divmod(int(ind[b, k]), W)
                        total = total + (output[b, :, y, x] - target[b, k]).abs().sum()
            return total / (D * mask.to(output.dtype).sum() + 1e-4)
        """
    ),
    _src(
        """
        def decode_ctdet(heat, wh, reg=None, K=100):
            B, C, H, W = heat.shape
            peaks = heatmap_nms(heat).reshape(B, -1)
            scores, order = torch.sort(peaks, dim=1, descending=True)
            scores, order = scores[:, :K], order[:, :K]
            cls, pix = order // (H * W), order % (H * W)
            ys, xs = pix // W, pix % W
            bi = torch.arange(B)[:, None]
            fx, fy = xs.to(heat.dtype), ys.to(heat.dtype)
            if reg is None:
                fx, fy = fx + 0.5, fy + 0.5
            else:
                fx, fy = fx + reg[bi, 0, ys, xs], fy + reg[bi, 1, ys, xs]
            hw, hh = wh[bi, 0, ys, xs] / 2, wh[bi, 1, ys, xs] / 2
            return torch.stack([fx - hw, fy - hh, fx + hw, fy + hh, scores, cls.to(heat.dtype)], 2)
        """
    ),
    "print(decode_ctdet(torch.rand(1, 1, 4, 4), torch.ones(1, 2, 4, 4), K=2))\n",
)

FORMULA_RADIUS = _src(
    """
    import numpy as np


    def my_gaussian_radius(height, width, min_overlap=0.7):
        h, w, o = np.float64(height), np.float64(width), np.float64(min_overlap)
        s, p = h + w, h * w
        disc = np.array([s * s - 4 * p * (1 - o) / (1 + o), 4 * s * s - 16 * (1 - o) * p])
        r1, r2 = (np.array([s, 2 * s]) - np.sqrt(disc)) / np.array([2.0, 8.0])
        r3 = (np.sqrt(4 * o * o * s * s + 16 * o * (1 - o) * p) - 2 * o * s) / (8 * o)
        return float(np.min([r1, r2, r3]))
    """
)

FLOAT32_ONLY = _src(
    """
    import torch


    def my_focal_loss(pred, gt):
        # Everything in float32: the checker judges a float32 result at float32 precision
        # (a pass, with a note). An assignment that requires float64 results must fail this
        # (by its dtype: its values happen to lie within float64's tolerance).
        p, y = pred.float(), gt.float()
        pos = y.eq(1).float()
        terms = pos * (1 - p) ** 2 * torch.log(p) + (1 - pos) * (1 - y) ** 4 * p**2 * torch.log(1 - p)
        return -terms.sum() / pos.sum().clamp(min=1)
    """
)

ENCODE_TEMPLATE = _src(
    """
    import math

    import numpy as np
    import torch

    from centernet_edu import draw_gaussian, gaussian_radius  # encoding may build on them


    def my_encode_ctdet(boxes, labels, num_classes, output_size, max_objs=128):
        H, W = output_size
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        hm = np.zeros((num_classes, H, W), np.float32)
        wh = np.zeros((max_objs, 2), np.float32)
        reg = np.zeros((max_objs, 2), np.float32)
        ind = np.zeros(max_objs, np.int64)
        reg_mask = np.zeros(max_objs, np.uint8)
        for k in range(min(len(boxes), max_objs)):
            x1, x2 = np.clip(boxes[k, [0, 2]], 0, {x_max})
            y1, y2 = np.clip(boxes[k, [1, 3]], 0, {y_max})
            w, h = x2 - x1, y2 - y1
            if w <= 0 or h <= 0:
                continue
            ct = np.array([(x1 + x2) / 2, (y1 + y2) / 2], np.float32)
            ct_int = ct.astype(np.int32)
            radius = max(0, int(gaussian_radius(math.ceil(h), math.ceil(w))))
            draw_gaussian(hm[labels[k]], ct_int, radius)
            wh[k] = w, h
            ind[k] = ct_int[1] * W + ct_int[0]
            reg[k] = {offset}
            reg_mask[k] = 1
        out = dict(hm=hm, wh=wh, reg=reg, ind=ind, reg_mask=reg_mask)
        return {{key: torch.from_numpy(v) for key, v in out.items()}}
    """
)

ROUNDED_OFFSET = ENCODE_TEMPLATE.format(
    x_max="W - 1", y_max="H - 1", offset="ct - np.floor(ct + 0.5)  # the rounded centre"
)

FAR_BORDER = (
    "# Clips the boxes to W and H, where W - 1 and H - 1 belong.\n"
    + ENCODE_TEMPLATE.format(x_max="W", y_max="H", offset="ct - ct_int")
    + _src(
        """


    def my_draw_gaussian(heatmap, center, radius):
        r = int(radius)
        d = np.arange(-r, r + 1)
        g = np.exp(-(d[:, None] ** 2 + d[None, :] ** 2) / (2 * ((2 * r + 1) / 6) ** 2))
        g[g < np.finfo(g.dtype).eps * g.max()] = 0
        x, y = int(center[0]), int(center[1])
        H, W = heatmap.shape
        top, bottom = max(0, y - r), min(H - 1, y + r + 1)  # one short at the far border
        left, right = max(0, x - r), min(W - 1, x + r + 1)
        if top < bottom and left < right:
            region = heatmap[top:bottom, left:right]
            patch = g[top - y + r : bottom - y + r, left - x + r : right - x + r]
            np.maximum(region, patch, out=region)
        return heatmap
    """
    )
)

WRAPPER = _src(
    """
    import centernet_edu
    from centernet_edu.losses import reg_l1_loss as _l1  # captured when the file loads


    def reg_l1_loss(output, mask, ind, target): return centernet_edu.reg_l1_loss(output, mask, ind, target)


    def my_size_loss(output, mask, ind, target):
        return _l1(output, mask, ind, target)
    """
)

PARTIAL = _src(
    """
    import functools

    import centernet_edu

    my_focal_loss = functools.partial(centernet_edu.focal_loss)
    """
)

LAMBDA = _src(
    """
    import centernet_edu

    heatmap_nms = lambda heat: centernet_edu.heatmap_nms(heat)  # noqa: E731
    """
)

SUBCLASS = _src(
    """
    import centernet_edu


    class CenterNetLoss(centernet_edu.CenterNetLoss):
        pass


    class ExtremeNetLoss(centernet_edu.ExtremeNetLoss):
        pass
    """
)

PATCH_CHECKER = _src(
    """
    import torch


    def my_focal_loss(pred, gt):
        return torch.zeros((), dtype=pred.dtype)


    def _patch(do):
        try:
            do()
        except Exception:  # a missing module or attribute must not stop the load
            pass


    def _reference():
        import centernet_edu
        import centernet_edu.exercises.check_losses as check_losses
        import centernet_edu.losses

        check_losses.focal_loss = my_focal_loss
        centernet_edu.focal_loss = my_focal_loss
        centernet_edu.losses.focal_loss = my_focal_loss


    def _checkers():
        from centernet_edu.exercises import grade
        from centernet_edu.exercises.report import Report

        for name in list(grade.CHECKERS):
            grade.CHECKERS[name] = lambda fn, *a, _name=name, **k: Report(_name, passed=12, total=12)


    def _tolerance():
        from centernet_edu.exercises import judge

        for dtype in list(judge.TOLERANCE):
            judge.TOLERANCE[dtype] = (1e9, 1e9)


    def _compare():
        from centernet_edu.exercises import judge

        judge._compare = lambda *a, **k: judge.Verdict()


    def _report():
        from centernet_edu.exercises.report import Report

        Report.ok = property(lambda self: True)


    for _do in (_reference, _checkers, _tolerance, _compare, _report):
        _patch(_do)
    """
)

PATCH_TORCH = _src(
    """
    import numpy
    import torch


    def _zero(x):
        return torch.zeros((), dtype=x.dtype)


    def focal_loss(pred, gt):
        return _zero(pred)


    def focal_loss_with_logits(logits, gt):
        return _zero(logits)


    def reg_l1_loss(output, mask, ind, target):
        return _zero(output)


    def my_size_loss(output, mask, ind, target):
        return _zero(output)


    def my_centernet_loss(outputs, batch):
        return _zero(outputs["hm"])


    def my_extreme_net_loss(outputs, batch):
        return _zero(outputs["hm_c"])


    def _shape(a, b):
        return numpy.broadcast_shapes(numpy.shape(a), numpy.shape(b))


    def _patch(module, name, fake):
        try:
            setattr(module, name, fake)
        except Exception:
            pass


    _patch(torch, "isclose", lambda a, b, *x, **k: torch.ones(_shape(a, b), dtype=torch.bool))
    _patch(torch, "allclose", lambda *a, **k: True)
    _patch(torch, "equal", lambda *a, **k: True)
    _patch(numpy, "isclose", lambda a, b, *x, **k: numpy.ones(_shape(a, b), dtype=bool))
    _patch(numpy, "allclose", lambda *a, **k: True)
    _patch(numpy, "array_equal", lambda *a, **k: True)
    """
)

FORGE_FDS = _src(
    """
    import json
    import os
    import pickle
    import struct

    EXERCISES = {exercises!r}


    class _Payload:
        # If a grader ever unpickles what a student sends, this runs in the grader.
        def __reduce__(self):
            return (exec, ("import os; os.environ[{pwned!r}] = 'forge_fds'",))


    def _frames():
        loaded = {{"event": "loaded", "defines": EXERCISES, "imported": [], "problems": []}}
        events = [loaded] + [
            {{"event": "result", "exercise": name, "passed": 12, "total": 12, "ok": True,
              "message": "all cases pass"}}
            for name in EXERCISES
        ]
        out = []
        for event in events:
            line = json.dumps(event).encode()
            out.append(line + b"\\n")
            out.append(struct.pack("!i", len(line)) + line)
            out.append(struct.pack("!Q", len(line)) + line)
            blob = pickle.dumps(event)
            out.append(struct.pack("!i", len(blob)) + blob)
        blob = pickle.dumps(_Payload())
        out.append(struct.pack("!i", len(blob)) + blob)
        return out


    _FRAMES = _frames()
    for _fd in os.listdir("/proc/self/fd"):
        for _frame in _FRAMES:
            try:
                os.write(int(_fd), _frame)
            except Exception:
                pass
    os._exit(0)
    """
)

MALFORMED = _src(
    """
    import os
    import struct

    import torch
    import torch.nn.functional as F

    _spoiled = []


    def _spoil():
        junk = [
            struct.pack("!i", 2**31 - 1) + os.urandom(512),
            struct.pack("!Q", 2**63 - 1) + os.urandom(512),
            b"\\xff" * 64 + os.urandom(2048) + b"\\n",
            b'{"event": "result", "exercise": "heatmap_nms", "ok": tr' + os.urandom(64),
        ]
        for fd in os.listdir("/proc/self/fd"):
            for chunk in junk:
                try:
                    os.write(int(fd), chunk)
                except Exception:
                    pass


    def my_heatmap_nms(heat):
        if not _spoiled:
            _spoiled.append(True)
            _spoil()
        keep = heat == F.max_pool2d(heat, 3, stride=1, padding=1)
        return heat * keep
    """
)

KILL_SERVER = (
    _src(
        """
        import math
        import os
        import signal

        if os.getppid() > 1:  # never PID 1
            try:
                os.kill(os.getppid(), signal.SIGKILL)
            except OSError:
                pass


        """
    )
    + BOOK_RADIUS
)

FORK_BOMB = _src(
    """
    import os
    import signal
    import time

    import numpy as np


    def _name(comm):
        try:
            import ctypes

            ctypes.CDLL(None).prctl(15, comm.encode(), 0, 0, 0)  # PR_SET_NAME
        except Exception:
            pass


    def _bomb(rounds=3):  # 2 ** 3 = 8 processes in all, this one included
        child = False
        for _ in range(rounds):
            try:
                pid = os.fork()
            except OSError:  # a process limit: the bomb stops there
                break
            if pid == 0:
                child = True
        if child:
            try:  # a child never goes back to the grader's code
                _name({comm!r})
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                time.sleep(300)
            finally:
                os._exit(0)


    _bomb()


    def my_draw_gaussian(heatmap, center, radius):
        r = int(radius)
        ys, xs = np.mgrid[-r : r + 1, -r : r + 1].astype(np.float64)
        sigma = (2 * r + 1) / 6
        g = np.exp(-(xs * xs + ys * ys) / (2 * sigma * sigma))
        g[g < np.finfo(np.float64).eps] = 0
        x, y = int(center[0]), int(center[1])
        H, W = heatmap.shape
        y0, y1 = max(0, y - r), min(H, y + r + 1)
        x0, x1 = max(0, x - r), min(W, x + r + 1)
        if y0 < y1 and x0 < x1:
            sub = g[y0 - (y - r) : y1 - (y - r), x0 - (x - r) : x1 - (x - r)]
            heatmap[y0:y1, x0:x1] = np.maximum(heatmap[y0:y1, x0:x1], sub)
        return heatmap
    """
)

SLEEPER = (
    _src(
        """
        import os
        import signal
        import subprocess
        import time

        import torch

        try:
            subprocess.Popen(
                ["sleep", "300"], start_new_session=True, env={{**os.environ, {env!r}: "sleeper"}}
            )
        except OSError:  # no sleep here, or a process limit: the fork below still tries
            pass
        try:
            _pid = os.fork()
        except OSError:
            _pid = -1
        if _pid == 0:
            try:  # the child never goes back to the grader's code
                os.setsid()
                try:
                    import ctypes

                    ctypes.CDLL(None).prctl(15, {comm!r}.encode(), 0, 0, 0)  # PR_SET_NAME
                except Exception:
                    pass
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                time.sleep(300)
            finally:
                os._exit(0)


        """
    )
    + FOCAL_MASKED
)

VANDAL = _src(
    """
    import os
    from pathlib import Path

    import torch

    _MARK = "GRADING-CLASS-" + "SUBMISSION"
    _GRAFFITI = "def my_focal_loss(pred, gt): return 0\\n"


    def _vandalise():
        me = Path(globals().get("__file__") or "vandal.py").resolve()
        places = {me.parent, me.parent.parent, Path.cwd()}
        if os.environ.get("PWD"):
            places.add(Path(os.environ["PWD"]))
        # The folders its ancestors were started on (the grader's SUBMISSIONS among them):
        # where a real vandal would look for classmates.
        pid = os.getppid()
        while pid > 1:
            try:
                args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\\0")
                places |= {Path(a.decode()) for a in args if a and Path(a.decode()).is_dir()}
                pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                break
        for place in places:
            for pattern in ("*.py", "*.ipynb", "*/*.py", "*/*.ipynb"):
                try:
                    found = list(place.glob(pattern))
                except OSError:
                    continue
                for path in found:
                    try:
                        if path.resolve() == me or "vandal" in path.name:
                            continue
                        if _MARK not in path.read_text(errors="replace"):
                            continue  # only this class's files, never anything else
                        path.write_text(_GRAFFITI)
                    except OSError:
                        pass


    try:
        _vandalise()
    except Exception:  # the attack is best effort: the answer below must still load
        pass


    """
) + L1_INDEXED.format(name="my_reg_l1_loss")

LOOPS_FOREVER = (
    _src(
        """
        import torch

        from centernet_edu import heatmap_nms  # decoding may build on it


        def my_heatmap_nms(heat):
            while True:
                pass


        def decode_ctdet(heat, wh, reg=None, K=100):
            B, C, H, W = heat.shape
            peaks = heatmap_nms(heat)
            per_class, where = peaks.reshape(B, C, H * W).topk(K)
            scores, pick = per_class.reshape(B, C * K).topk(K)
            pixel = where.reshape(B, C * K).gather(1, pick)
            cls = (pick // K).to(heat.dtype)
            y, x = (pixel // W).to(heat.dtype), (pixel % W).to(heat.dtype)
            flat_wh = wh.reshape(B, 2, H * W)
            w = flat_wh[:, 0].gather(1, pixel)
            h = flat_wh[:, 1].gather(1, pixel)
            if reg is None:
                x, y = x + 0.5, y + 0.5
            else:
                flat_reg = reg.reshape(B, 2, H * W)
                x, y = x + flat_reg[:, 0].gather(1, pixel), y + flat_reg[:, 1].gather(1, pixel)
            return torch.stack([x - w / 2, y - h / 2, x + w / 2, y + h / 2, scores, cls], 2)


        """
    )
    + FOCAL_MASKED
)

INTERRUPT = _src(
    """
        import torch


        def my_focal_loss(pred, gt):
            raise KeyboardInterrupt


        """
) + L1_INDEXED.format(name="my_size_loss")


# Writing the class ----------------------------------------------------------------------


def _verdicts(*passing: str) -> dict[str, bool]:
    unknown = set(passing) - set(EXERCISES)
    assert not unknown, unknown
    return {name: name in passing for name in EXERCISES}


def _write_py(path: Path, student: str, source: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# {MARKER}: {student}\n{source}", encoding="utf-8")


def _marked(nb, student: str):
    nb.metadata["grading_class"] = f"{MARKER}: {student}"
    return nb


def _student_edition(chapter: str):
    """``chapter`` of the student edition, as ``tools/student.py`` writes it."""
    spec = importlib.util.spec_from_file_location(
        "_grading_class_student", ROOT / "tools" / "student.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
        with tempfile.TemporaryDirectory(prefix="grading-class-") as tmp:
            out = Path(tmp) / "edition"
            module.write_edition([ROOT / "book" / chapter], out)
            return nbformat.read(out / chapter, as_version=4)
    finally:
        sys.modules.pop(spec.name, None)


def _stub(nb, name: str) -> int:
    """The index of the ``exercise`` cell that defines ``name``."""
    found = [
        i
        for i, cell in enumerate(nb.cells)
        if "exercise" in cell.get("metadata", {}).get("tags", []) and f"def {name}(" in cell.source
    ]
    assert len(found) == 1, (name, found)
    return found[0]


def _filled_chapter(student: str, focal: str | None, logits: str | None, logits_below: str | None):
    """Chapter 3 with the stubs' sources replaced (None: left as the stub) and, if
    ``logits_below``, a new untagged cell inserted right below the logits stub."""
    nb = _student_edition("03_focal_loss.ipynb")
    if focal is not None:
        nb.cells[_stub(nb, "my_focal_loss")].source = focal
    at = _stub(nb, "my_focal_loss_with_logits")
    if logits is not None:
        nb.cells[at].source = logits
    if logits_below is not None:
        cell = nbformat.v4.new_code_cell(logits_below)
        cell.id = "my-own-answer"
        nb.cells.insert(at + 1, cell)
    nbformat.validate(nb)
    return _marked(nb, student)


def _plain_notebook(student: str, cells: tuple[str, ...]):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i}"
    nb.cells.append(nbformat.v4.new_markdown_cell("My notes.", id="notes"))
    return _marked(nb, student)


def write_class(folder: Path) -> dict[str, dict[str, bool]]:
    """Write the class into ``folder`` (created if need be); return, for every student id,
    the ``ok`` each exercise of ``EXERCISES`` must get."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    exercises = list(EXERCISES)
    files = {
        "correct_py": CORRECT_PY,
        "=1+1": FORMULA_RADIUS,
        "float32_only": FLOAT32_ONLY,
        "classic_rounded_offset": ROUNDED_OFFSET,
        "classic_far_border": FAR_BORDER,
        "wrapper": WRAPPER,
        "partial": PARTIAL,
        "lambda_": LAMBDA,
        "subclass": SUBCLASS,
        "patch_checker": PATCH_CHECKER,
        "patch_torch": PATCH_TORCH,
        "forge_fds": FORGE_FDS.format(exercises=exercises, pwned=PWNED_ENV),
        "malformed": MALFORMED,
        "kill_server": KILL_SERVER,
        "fork_bomb": FORK_BOMB.format(comm=LEFTOVER_COMMS[0]),
        "sleeper": SLEEPER.format(env=LEFTOVER_ENV, comm=LEFTOVER_COMMS[1]),
        "000_vandal": VANDAL,
        "loops_forever": LOOPS_FOREVER,
        "interrupt": INTERRUPT,
    }
    for student, source in files.items():
        _write_py(folder / f"{student}.py", student, source)

    notebooks = {
        "correct_nb": _filled_chapter("correct_nb", NB_FOCAL_ANSWER, None, NB_LOGITS_NEW_CELL),
        "syntax_nb": _filled_chapter("syntax_nb", NB_SYNTAX_ERROR, NB_LOGITS_IN_STUB, None),
    }
    for student, nb in notebooks.items():
        nbformat.write(nb, folder / f"{student}.ipynb")

    split = folder / "split_folder"
    _write_py(split / "part_a.py", "split_folder", SPLIT_PART_A)
    nbformat.write(_plain_notebook("split_folder", SPLIT_PART_B_CELLS), split / "part_b.ipynb")

    every = [n for n in EXERCISES]
    expected = {
        "correct_py": _verdicts(*every),
        "correct_nb": _verdicts("focal_loss", "focal_loss_with_logits"),
        "syntax_nb": _verdicts("focal_loss_with_logits"),
        "split_folder": _verdicts(
            "gaussian_radius", "draw_gaussian", "reg_l1_loss", "decode_ctdet"
        ),
        "=1+1": _verdicts("gaussian_radius"),
        "float32_only": _verdicts("focal_loss"),
        "classic_rounded_offset": _verdicts(),
        "classic_far_border": _verdicts(),
        "wrapper": _verdicts(),
        "partial": _verdicts(),
        "lambda_": _verdicts(),
        "subclass": _verdicts(),
        "patch_checker": _verdicts(),
        "patch_torch": _verdicts(),
        "forge_fds": _verdicts(),
        "malformed": _verdicts(),
        "kill_server": _verdicts("gaussian_radius"),
        "fork_bomb": _verdicts("draw_gaussian"),
        "sleeper": _verdicts("focal_loss"),
        "000_vandal": _verdicts("reg_l1_loss"),
        "loops_forever": _verdicts("focal_loss", "decode_ctdet"),
        "interrupt": _verdicts("size_loss"),
    }
    written = {p.stem for p in folder.iterdir() if p.is_file()} | {
        p.name for p in folder.iterdir() if p.is_dir()
    }
    assert set(expected) <= written, set(expected) - written
    return expected


if __name__ == "__main__":  # python tests/grading_class.py FOLDER: write a class to look at
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "grading-class")
    print(json.dumps(write_class(target), indent=1))
