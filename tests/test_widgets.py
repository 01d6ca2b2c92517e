"""The book's figures and explorers, driven without a notebook."""

import base64
import html
import io
import math
import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure  # noqa: E402

from centernet_edu import gaussian_radius, viz, widgets  # noqa: E402
from centernet_edu.evaluate import box_iou, match_detections  # noqa: E402
from centernet_edu.pretrained import loss_weight_runs  # noqa: E402
from centernet_edu.widgets import explorer as parts  # noqa: E402

EXPLORERS = [
    widgets.centre_explorer,
    widgets.radius_explorer,
    widgets.radius_cases_explorer,
    widgets.focal_loss_explorer,
    widgets.focal_gradient_explorer,
    widgets.shape_explorer,
    widgets.offset_explorer,
    widgets.size_explorer,
    widgets.prior_explorer,
    widgets.loss_weights_explorer,
]


def shown_text(e, name: str) -> str:
    """The text of ``<output name=name>`` in the explorer's HTML."""
    return e._repr_html_().split(f'<output name="{name}"', 1)[1].split(">", 1)[1].split("<")[0]


@pytest.mark.parametrize("make", EXPLORERS)
def test_explorer_numbers_follow_its_controls(make):
    e = make()
    name, control = next(iter(e.controls.items()))
    other = control.options[0] if control.options else control.lo
    if other == e.values[name]:
        other = control.options[-1] if control.options else control.hi
    assert e.quantities(**{name: other}) != e.numbers
    assert e.quantities() == e.numbers


def test_prior_explorer_reports_the_loss_on_its_public_targets():
    gt = widgets.prior_targets()
    assert gt.shape[0] == 8 and int((gt == 1).sum()) > 0
    pos, neg = viz.prior_loss(gt, 0.1)
    e = widgets.prior_explorer(pi=0.1)
    assert e.numbers["total"] == pytest.approx(pos + neg, rel=1e-12)
    assert shown_text(e, "total") == f"{pos + neg:.2f}"


def test_radius_explorer_reports_the_package_radii():
    e = widgets.radius_explorer(width=30, height=10, min_overlap=0.5)
    ref = gaussian_radius(10, 30, 0.5)
    fixed = gaussian_radius(10, 30, 0.5, variant="corrected")
    assert e.numbers["r_centernet"] == ref and e.numbers["r_corrected"] == fixed
    assert shown_text(e, "r_centernet") == f"{ref:.2f}"


def test_size_explorer_reports_l1_and_iou():
    e = widgets.size_explorer(width=10, height=10, dw=10, dh=0)
    want = {"l1": 10.0, "wh_loss": 5.0, "weighted": 0.5, "iou": 0.5}  # 1e-4 in 2N + 1e-4
    assert e.numbers == pytest.approx(want, rel=1e-4)
    assert shown_text(e, "iou") == "0.500" and shown_text(e, "weighted") == "0.500"


@pytest.mark.parametrize("dw, dh", [(3.0, -2.0), (10.0, 0.0), (-7.5, 12.0), (0.0, 0.0)])
def test_size_explorer_shows_what_centernet_loss_adds(dw, dh):
    # One object in a batch of one, its size head off by (dw, dh) at the centre: the
    # explorer's weighted term is CenterNetLoss's wh_loss times its wh_weight.
    import numpy as np
    import torch

    from centernet_edu import CenterNetLoss, encode_ctdet, scatter_targets

    e = widgets.size_explorer(width=20, height=12, dw=dw, dh=dh)
    box = np.array([[4.0, 10.0, 24.0, 22.0]])  # 20 x 12 heatmap pixels
    t = {k: v[None] for k, v in encode_ctdet(box, [0], 1, (32, 32), max_objs=4).items()}
    outputs = {"hm": torch.zeros(1, 1, 32, 32), "reg": torch.zeros(1, 2, 32, 32)}
    outputs["wh"] = scatter_targets(t)["wh"] + torch.tensor([dw, dh]).view(1, 2, 1, 1)
    criterion = CenterNetLoss()
    _, stats = criterion(outputs, t)
    assert e.numbers["wh_loss"] == pytest.approx(stats["wh_loss"].item(), rel=1e-6, abs=1e-7)
    want = criterion.wh_weight * stats["wh_loss"].item()
    assert e.numbers["weighted"] == pytest.approx(want, rel=1e-6, abs=1e-7)
    assert e.numbers["weighted"] == pytest.approx(0.1 * (abs(dw) + abs(dh)) / 2, rel=1e-4)


def test_offset_explorer_reports_the_quantisation_error():
    q = widgets.offset_explorer(x=6.0, y=4.0, stride=4).numbers
    assert (q["cell_x"], q["cell_y"], q["offset_x"], q["offset_y"]) == (1, 1, 0.5, 0.0)
    assert q["error"] == 2.0 and q["error_corner"] == 2.0
    assert q["max_error"] == pytest.approx(2 * math.sqrt(2))  # R / sqrt(2) at R = 4


@pytest.mark.parametrize("x, y, stride", [(13.3, 6.8, 4), (6.0, 4.0, 4), (0.1, 23.9, 8), (5, 5, 1)])
def test_offset_explorer_error_is_where_the_decoder_puts_the_centre_without_offsets(x, y, stride):
    # decode_ctdet without an offset map: the centre of a perfect peak, in image pixels.
    import numpy as np

    from centernet_edu import decode_ctdet, encode_ctdet, scatter_targets

    q = widgets.offset_explorer(x=x, y=y, stride=stride).numbers
    box = np.array([[x - 2.0, y - 2.0, x + 2.0, y + 2.0]]) / stride
    t = {k: v[None] for k, v in encode_ctdet(box, [0], 1, (32, 32), max_objs=1).items()}
    perfect = scatter_targets(t)
    det = decode_ctdet(perfect["hm"], perfect["wh"], None, K=1)[0, 0].double()
    centre = stride * (det[:2] + det[2:4]) / 2
    assert q["error"] == pytest.approx(math.hypot(centre[0] - x, centre[1] - y), abs=1e-5)
    assert q["error"] <= q["max_error"]
    corner = stride * np.floor(np.array([x, y]) / stride)
    assert q["error_corner"] == pytest.approx(math.hypot(*(np.array([x, y]) - corner)))


def test_centre_explorer_reads_the_targets_of_encode_ctdet():
    q = widgets.centre_explorer(cx=50.0, cy=62.0).numbers
    # The 40 x 28 box centred at (50, 62) image pixels is centred at (12.5, 15.5) on the map.
    assert (q["peak_x"], q["peak_y"], q["offset_x"], q["offset_y"]) == (12, 15, 0.5, 0.5)


def test_radius_cases_reach_the_minimum_iou_at_the_safe_radius():
    e = widgets.radius_cases_explorer(width=24, height=16, min_overlap=0.7, r=0.0)
    safe = e.numbers["r_safe"]
    assert e.numbers["iou_min"] == 1.0
    # The control's grid is 0.1: one step below the safe radius keeps every case above o.
    below = e.quantities(r=math.floor(safe * 10) / 10)
    above = e.quantities(r=math.ceil(safe * 10) / 10)
    assert below["iou_min"] >= 0.7 > above["iou_min"]


def test_focal_gradient_explorer_gives_autograd_gradients():
    q = widgets.focal_gradient_explorer(alpha=2.0, beta=4.0, x=0.0).numbers
    # At x = 0, Yhat = 1/2: the positive's gradient is -(1/2)^3 - 2 (1/2)^3 log 2.
    assert q["grad_pos"] == pytest.approx(-(0.5**3) - 2 * 0.5**3 * math.log(2))
    assert q["grad_neg_y0"] == pytest.approx(-q["grad_pos"])
    assert q["grad_neg_y50"] == pytest.approx(0.5**4 * q["grad_neg_y0"])


def test_shape_explorer_loss_is_lowest_on_the_object():
    e = widgets.shape_explorer(x=16.0, y=16.0, sigma=1.0, peak=0.9)
    assert e.quantities(x=24.0)["loss"] > e.numbers["loss"]
    assert e.numbers["grad_peak"] < 0  # the peak is pushed up


def test_box_iou():
    assert box_iou((0, 0, 2, 2), (1, 0, 3, 2)) == pytest.approx(1 / 3)
    assert box_iou((0, 0, 1, 1), (2, 2, 3, 3)) == 0.0
    assert box_iou((0, 0, 0, 0), (0, 0, 0, 0)) == 0.0


@pytest.mark.parametrize("h, w, o", [(10, 10, 0.7), (40, 8, 0.5), (3, 90, 0.9)])
def test_overlap_cases_reach_the_minimum_iou(h, w, o):
    axes = Figure().subplots(1, 3)
    viz.draw_overlap_cases(axes, h, w, o)
    ious = [float(ax.get_title().rsplit("IoU ", 1)[1]) for ax in axes]
    assert min(ious) == pytest.approx(o, abs=1e-3) and all(i >= o - 1e-3 for i in ious)


def test_show_heatmap_rejects_other_shapes():
    import numpy as np

    with pytest.raises(
        ValueError, match=r"heat must have shape \(H, W\) or \(C, H, W\), got \(2,\)"
    ):
        viz.show_heatmap(Figure().subplots(), np.zeros(2))


def test_explorer_text_is_short_and_stable():
    e = widgets.size_explorer(width=10, height=10, dw=1, dh=0)
    assert repr(e) == "LiveExplorer(size: width=10.0, height=10.0, dw=1.0, dh=0.0)"
    assert repr(e.explorer) == "Explorer(width=10.0, height=10.0, dw=1.0, dh=0.0)"
    assert (
        repr(widgets.radius_explorer())
        == "LiveExplorer(radius: width=24, height=16, min_overlap=0.7)"
    )


def test_prior_loss_splits_lk_at_a_constant_prediction():
    import math

    import torch

    gt = torch.zeros(1, 1, 4, 4)
    gt[0, 0, 1, 1] = 1
    gt[0, 0, 1, 2] = 0.5
    pos, neg = viz.prior_loss(gt, 0.1)
    assert pos == pytest.approx(-(0.9**2) * math.log(0.1))
    # 14 far negatives and one at Y = 0.5, each weighted by (1 - Y)^4 pi^2 log(1 - pi).
    assert neg == pytest.approx(-(14 + 0.5**4) * 0.1**2 * math.log(0.9))


def test_prior_explorer_reports_the_bias():
    e = widgets.prior_explorer(pi=0.1)
    assert shown_text(e, "bias") == "-2.20"


def _perfect_heads():
    """One shapes image and the head outputs a perfect model would give for it."""
    from torch.utils.data import default_collate

    from centernet_edu import ShapesDataset, scatter_targets
    from centernet_edu.data import denormalize_image

    shapes = ("circle", "square", "triangle")
    ds = ShapesDataset(1, 64, seed=3, shapes=shapes, size_range=(12, 40), objects=(3, 4))
    item = ds[0]
    heads = {k: v[0] for k, v in scatter_targets(default_collate([item])).items()}
    n = int(item["num_objs"])
    return denormalize_image(item["image"]), heads, (item["boxes"][:n], item["labels"][:n])


def test_decode_explorer_counts_hits_and_false_positives():
    image, heads, gt = _perfect_heads()
    n = len(gt[1])
    e = widgets.decode_explorer(image, heads, gt, threshold=0.3, K=20, kernel=3)
    assert (e.numbers["hits"], e.numbers["false_positives"]) == (n, 0)
    # Without suppression the shoulders of each Gaussian become detections of size 0.
    q = e.quantities(kernel=1)
    assert q["hits"] == n and q["false_positives"] > 0
    assert e.quantities(kernel=1, threshold=0.95)["false_positives"] == 0  # only the peaks
    assert e.quantities(kernel=1, threshold=0.95, K=1)["hits"] == 1
    assert repr(e) == "LiveExplorer(decode: threshold=0.3, K=20, kernel=3)"


def test_match_detections_is_greedy_per_class():
    gt_boxes, gt_labels = [[0, 0, 10, 10], [20, 0, 30, 10]], [0, 1]
    boxes = [[0, 0, 10, 10], [1, 0, 11, 10], [20, 0, 30, 10], [20, 0, 30, 10]]
    # The second box overlaps the first object, which is taken; the last one has the
    # wrong class.
    assert match_detections(boxes, [0, 0, 1, 0], gt_boxes, gt_labels) == [0, -1, 1, -1]
    assert match_detections(boxes[:1], [0], gt_boxes, gt_labels, iou=1.01) == [-1]
    # The better overlap wins when two free objects of the class qualify (IoU 0.905 and
    # 0.818), whichever comes first.
    det, near, far = [1, 0, 11, 10], [1.5, 0, 11.5, 10], [0, 0, 10, 10]
    assert match_detections([det], [0], [near, far], [0, 0]) == [0]
    assert match_detections([det], [0], [far, near], [0, 0]) == [1]


def _ghost_scene():
    """Two objects of one class side by side and their perfect extreme-point heads: the
    left points of the first and the right points of the second also span a box (a
    ghost), whose centre is background. Returns ``image, heads, gt``."""
    import numpy as np
    from torch.utils.data import default_collate

    from centernet_edu import scatter_targets
    from centernet_edu.data import make_item

    points = np.array([[14, 20, 4, 30, 14, 40, 24, 30], [46, 20, 36, 30, 46, 40, 56, 30]])
    boxes = np.array([[4, 20, 24, 40], [36, 20, 56, 40]])
    image = np.zeros((64, 64, 3), dtype=np.uint8)
    item = make_item(image, boxes, [0, 0], 1, extreme_points=points, max_objs=2, extreme=True)
    keys = [f"hm_{p}" for p in "tlbrc"] + [f"{k}_{p}" for k in ("reg", "ind") for p in "tlbr"]
    heads = scatter_targets(default_collate([{k: item[k] for k in keys + ["reg_mask"]}]))
    return image, {k: v[0] for k, v in heads.items()}, (boxes, np.array([0, 0]))


def test_extreme_explorer_shows_what_the_centre_check_rejects():
    image, heads, gt = _ghost_scene()
    e = widgets.extreme_explorer(image, heads, gt, K=2, center_thresh=0.1, threshold=0.3)
    assert e.numbers["valid"] == 2 and "quadruples" not in e.numbers
    assert (e.numbers["hits"], e.numbers["false_positives"]) == (2, 0)
    q = e.quantities(center_thresh=0.0)  # l of one, r of the other, any t and b
    assert (q["valid"], q["false_positives"]) == (6, 4)
    assert repr(e) == "LiveExplorer(extreme: K=2, center_thresh=0.1, threshold=0.3)"


def test_snapshot_explorer_takes_what_fit_gives_its_callback():
    import sys
    from pathlib import Path

    import torch

    from centernet_edu import decode_ctdet, heatmap_nms
    from centernet_edu.data import denormalize_image
    from centernet_edu.train import fit

    sys.path.insert(0, str(Path(__file__).parent))
    from tiny_run import tiny_config, tiny_data, tiny_model

    model, data = tiny_model(), tiny_data(6)
    probe, snapshots = data[5], []

    def take_snapshot(step, record):
        model.eval()
        with torch.no_grad():
            out = model(probe["image"][None])
        model.train()
        hm = torch.sigmoid(out["hm"][0])
        dets = decode_ctdet(hm[None], out["wh"], out["reg"], K=10)[0]
        snapshots.append({**record, "hm": hm, "dets": dets})

    fit(model, data, tiny_config(steps=3, batch_size=2), callback=take_snapshot)
    n = int(probe["num_objs"])
    gt = (probe["boxes"][:n], probe["labels"][:n])
    e = widgets.snapshot_explorer(snapshots, denormalize_image(probe["image"]), gt, snapshot=2)
    last = snapshots[2]
    assert e.numbers["step"] == 3 and e.numbers["hm_loss"] == last["hm_loss"]
    assert e.numbers["peak"] == float(last["hm"].max())
    for t in (0.05, 0.1, 0.35, 0.5):
        q = e.quantities(threshold=t)
        assert q["peaks"] == int((heatmap_nms(last["hm"][None].double()) >= t).sum())
        assert q["boxes"] == int((last["dets"][:, 4].double() >= t).sum())
    assert e.quantities(snapshot=0)["loss"] == snapshots[0]["loss"]
    assert repr(e) == "LiveExplorer(snapshot: snapshot=2, threshold=0.3)"
    opened = widgets.snapshot_explorer(snapshots, denormalize_image(probe["image"]), gt)
    assert opened.values["snapshot"] == len(snapshots) - 1  # opens on the trained model


def test_snapshot_explorer_finds_every_object_in_a_perfect_map():
    from centernet_edu import decode_ctdet

    image, heads, gt = _perfect_heads()
    dets = decode_ctdet(heads["hm"][None], heads["wh"][None], heads["reg"][None], K=20)[0]
    terms = {"loss": 0.0, "hm_loss": 0.0, "wh_loss": 0.0, "off_loss": 0.0}
    e = widgets.snapshot_explorer([{"step": 9, "hm": heads["hm"], "dets": dets} | terms], image, gt)
    n = len(gt[1])
    assert (e.numbers["peak"], e.numbers["peaks"], e.numbers["boxes"]) == (1.0, n, n)
    assert (e.numbers["hits"], e.numbers["false_positives"]) == (n, 0)
    assert shown_text(e, "step") == "9"


# Chapter 6: the recorded runs at several loss weights ----------------------------------------

TERMS = ("loss", "hm_loss", "wh_loss", "off_loss")


def weighted_sum_gap(run: dict, wh_weight: float, off_weight: float) -> list[float]:
    """At each recorded point: |loss - (hm + wh_weight wh + off_weight off)| less what the
    file's rounding (5 decimals on each of the four numbers) and float32 sums allow."""
    gaps = []
    for total, hm, wh, off in zip(*(run[k] for k in TERMS), strict=True):
        allowed = 0.5e-5 * (2 + wh_weight + off_weight) + 2**-22 * total
        gaps.append(abs(total - (hm + wh_weight * wh + off_weight * off)) - allowed)
    return gaps


def test_every_recorded_total_is_the_weighted_sum_of_its_terms():
    # The file is what it says: L_det = L_k + lambda_size L_size + lambda_off L_off at
    # every point, and the weights of any other run of the grid do not fit.
    runs = loss_weight_runs()["runs"]
    for run in runs:
        a, b = run["wh_weight"], run["off_weight"]
        assert max(weighted_sum_gap(run, a, b)) <= 0, (a, b)
        for other in runs:
            if (other["wh_weight"], other["off_weight"]) != (a, b):
                assert max(weighted_sum_gap(run, other["wh_weight"], other["off_weight"])) > 0


def test_the_faint_comparison_run_is_the_one_at_centernet_loss_defaults():
    from centernet_edu import CenterNetLoss
    from centernet_edu.widgets.total_loss import DEFAULT_WEIGHTS

    assert DEFAULT_WEIGHTS == (CenterNetLoss().wh_weight, CenterNetLoss().off_weight)
    assert widgets.loss_weights_explorer().data["compare"] == list(DEFAULT_WEIGHTS)


def test_the_shipped_runs_are_the_full_grid_of_the_300_step_schedule():
    record = loss_weight_runs()
    assert record["settings"]["steps"] == 300
    assert record["command"].startswith("python benchmarks/loss_weight_runs.py ")
    runs = record["runs"]
    assert [(r["wh_weight"], r["off_weight"]) for r in runs] == [
        (a, b) for a in (0.01, 0.1, 1.0) for b in (0.1, 1.0)
    ]
    for run in runs:
        assert run["step"] == list(range(10, 301, 10))
        assert [p["step"] for p in run["eval"]] == list(range(50, 301, 50))


def test_loss_weights_explorer_reads_the_recorded_point_and_the_last_evaluation_before_it():
    e = widgets.loss_weights_explorer()
    assert e.values == {"wh_weight": 0.1, "off_weight": 1.0, "step": 300}
    (run,) = [
        r for r in loss_weight_runs()["runs"] if r["wh_weight"] == 1.0 and r["off_weight"] == 0.1
    ]
    q = e.quantities(wh_weight=1.0, off_weight=0.1, step=120)
    i = run["step"].index(120)
    assert {k: q[k] for k in TERMS} == {k: run[k][i] for k in TERMS}
    assert q["ap50_step"] == 100 and q["ap50"] == run["eval"][1]["AP50"]
    shares = [q[f"grad_share_{k}"] for k in ("hm", "wh", "off")]
    assert sum(shares) == pytest.approx(1) and "share_wh" not in q
    before = e.quantities(step=40)
    assert math.isnan(before["ap50"]) and math.isnan(before["ap50_step"])
    assert shown_text(widgets.loss_weights_explorer(step=40), "ap50") == "\u2013"


def test_loss_weights_explorer_shows_shares_of_the_gradient_on_the_shared_features():
    # Chapter 6's measurement, made here afresh: each unweighted term's gradient norm on
    # the features of the model at initialisation, scaled by the weights chosen.
    import torch

    from centernet_edu import CenterNetLite, ShapesDataset, focal_loss_with_logits, reg_l1_loss

    data = ShapesDataset(length=16, seed=0)
    batch = {k: torch.stack([data[i][k] for i in range(4)]) for k in data[0]}
    state = torch.get_rng_state()
    torch.manual_seed(0)
    model = CenterNetLite(num_classes=data.num_classes)
    torch.set_rng_state(state)
    features = model.features(batch["image"])
    heads = {k: h(features) for k, h in model.heads.items()}
    m, ind = batch["reg_mask"], batch["ind"]
    terms = [
        focal_loss_with_logits(heads["hm"], batch["hm"]),
        reg_l1_loss(heads["wh"], m, ind, batch["wh"]),
        reg_l1_loss(heads["reg"], m, ind, batch["reg"]),
    ]
    norms = [torch.autograd.grad(t, features, retain_graph=True)[0].norm().item() for t in terms]
    e = widgets.loss_weights_explorer()
    for a in (0.01, 0.1, 1.0):
        for b in (0.1, 1.0):
            for step in (10, 300):
                q = e.quantities(wh_weight=a, off_weight=b, step=step)
                pull = [norms[0], a * norms[1], b * norms[2]]
                want = [p / sum(pull) for p in pull]
                got = [q[f"grad_share_{k}"] for k in ("hm", "wh", "off")]
                assert got == pytest.approx(want, rel=1e-5), (a, b, step)
    # At CenterNet's weights the heatmap pulls hardest, the weighted size term least.
    assert e.numbers["grad_share_hm"] > e.numbers["grad_share_off"] > e.numbers["grad_share_wh"]
    assert "shares of the gradient on the shared features" in e.shown[-3].label


# The picture an explorer shows until its script runs -----------------------------------------

PICTURE = re.compile(r'<img class="cn-picture" alt="([^"]*)" src="data:image/png;base64,([^"]+)">')
HINT = f'<p class="cn-hint">{parts.HINT}</p>'


def _one_of_each_kind() -> list:
    """One explorer of every kind, at its starting values (the snapshot one over a
    perfect map with its boxes)."""
    from centernet_edu import decode_ctdet

    image, heads, gt = _perfect_heads()
    dets = decode_ctdet(heads["hm"][None], heads["wh"][None], heads["reg"][None], K=20)[0]
    snap = {"step": 9, "hm": heads["hm"], "dets": dets} | dict.fromkeys(TERMS, 0.5)
    ghost_image, ghost_heads, ghost_gt = _ghost_scene()
    return [make() for make in EXPLORERS] + [
        widgets.snapshot_explorer([snap], image, gt),
        widgets.decode_explorer(image, heads, gt),
        widgets.extreme_explorer(ghost_image, ghost_heads, ghost_gt, K=2),
    ]


@pytest.fixture(scope="module")
def kinds():
    return _one_of_each_kind()


class Visible(HTMLParser):
    """The text a page shows when no script runs: not inside a ``hidden`` element, nor a
    script; and the classes of the visible elements."""

    VOID = {"input", "br", "img", "meta", "link", "hr", "wbr", "source"}

    def __init__(self, text: str):
        super().__init__()
        self.open, self.text, self.classes = [], "", []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        unseen = bool(self.open and self.open[-1][1]) or "hidden" in attrs or tag == "script"
        if not unseen and "class" in attrs:
            self.classes.append(attrs["class"])
        if tag not in self.VOID:
            self.open.append((tag, unseen))

    def handle_endtag(self, tag):
        while self.open and self.open.pop()[0] != tag:
            pass

    def handle_data(self, data):
        if not (self.open and self.open[-1][1]):
            self.text += data


def test_every_kind_of_explorer_has_a_picture(kinds):
    assert sorted(e.name for e in kinds) == sorted(parts.QUANTITIES) == sorted(parts.PICTURES)


def test_every_explorer_shows_a_picture_of_itself_and_how_to_make_it_live(kinds):
    from PIL import Image

    for e in kinds:
        page = e._repr_html_()
        ((alt, payload),) = PICTURE.findall(page)
        png = base64.b64decode(payload, validate=True)
        assert png == e.picture and len(png) <= 60_000, (e.name, len(png))
        with Image.open(io.BytesIO(png)) as image:
            image.load()  # the whole PNG decodes
            assert image.format == "PNG" and image.width == e.size[0], e.name
            assert e.size[1] < image.height < e.size[1] + 100, e.name  # and its caption
        assert page.count(HINT) == 1 and page.index(HINT) > page.index("cn-picture")
        # The picture's text alternative names every control and number, as shown.
        controls, shown = e.caption()
        assert all(f"{label} {value}" in html.unescape(alt) for label, value in controls + shown)


def test_without_scripts_only_the_picture_and_the_hint_show(kinds):
    # What a notebook opened untrusted shows: it runs no script and drops the SVG, so
    # the controls, the numbers and the figure wait in a hidden div.cn-live.
    for e in kinds:
        page = Visible(e._repr_html_())
        assert page.text == parts.HINT, e.name
        assert page.classes == ["cn-explorer", "cn-picture", "cn-hint"], e.name
        assert '<div class="cn-live" hidden="hidden"><div class="cn-controls">' in e._repr_html_()


def test_the_caption_writes_each_number_as_the_page_does():
    e = widgets.focal_loss_explorer()
    controls, shown = e.caption()
    assert controls == [("alpha", "2"), ("beta", "4"), ("target Y", "0.5")]
    assert shown[0] == ("(1 - Y)^beta", "0.063")  # 0.0625: the browser's toFixed rounds up
    tiny = widgets.focal_loss_explorer(alpha=3.5).caption()[1][1]  # 2.08e-6, not 0.00000
    assert tiny == ("negative loss at Yhat 0.1", "0.0000021")
    assert ("lambda_off", "1.0") in widgets.loss_weights_explorer().caption()[0]


def test_shown_text_rounds_as_the_browser_does():
    assert [parts.shown_text(v, 3) for v in (0.0625, -0.0625, 0.0005, 1 / 3)] == [
        "0.063",
        "-0.063",
        "0.001",
        "0.333",
    ]
    assert parts.shown_text(2.5, 0) == "3" and parts.shown_text(-0.0, 2) == "0.00"
    assert parts.shown_text(math.nan, 2) == "\u2013"
    # A nonzero number never reads as 0: more decimals, two significant digits, or an exponent.
    assert (
        parts.shown_text(1e-7, 6) == "0.00000010" and parts.shown_text(-3.2e-6, 5) == "-0.0000032"
    )
    assert parts.shown_text(3.2e-15, 5) == "3.2e-15" and parts.shown_text(0.0, 5) == "0.00000"


def test_pictures_are_deterministic_and_follow_the_values():
    first = widgets.prior_explorer().picture
    assert widgets.prior_explorer().picture == first  # drawn afresh: the same bytes
    assert widgets.prior_explorer(pi=0.01).picture != first
    for chunk in (b"tEXt", b"iTXt", b"zTXt", b"tIME"):  # no software version, no date
        assert chunk not in first
    e = widgets.size_explorer(dw=3)
    assert e._repr_html_() == widgets.size_explorer(dw=3)._repr_html_()


def test_without_matplotlib_the_hint_stays_and_the_picture_goes(monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)  # each import of it now fails
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    e = widgets.size_explorer()
    page = e._repr_html_()
    assert e.picture is None and "<img" not in page
    assert page.count(f'<p class="cn-hint">{parts.HINT_ALONE}</p>') == 1
    assert Visible(page).text == parts.HINT_ALONE
    assert '<output name="iou"' in page  # the live explorer is all there


def test_the_explorers_load_and_render_without_matplotlib():
    # matplotlib is the book extra's: the package's explorers must import without it.
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "from centernet_edu import widgets\n"
        "page = widgets.offset_explorer()._repr_html_()\n"
        "assert '<img' not in page and 'class=\"cn-hint\"' in page, page[:300]\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]


def test_prior_losses_equal_prior_loss_at_each_pi():
    gt = widgets.prior_targets()
    pis = [1e-4, 0.01, 0.1, 0.5, 0.9]
    many = viz.prior_losses(gt, pis)
    for row, pi in zip(many, pis, strict=True):
        assert row == pytest.approx(viz.prior_loss(gt, pi), rel=1e-12)


def test_overlap_cases_take_any_radius():
    axes = Figure().subplots(1, 3)
    viz.draw_overlap_cases(axes, 16, 24, 0.7, r=0.0)
    assert [ax.get_title() for ax in axes] == [
        f"{name} by r: IoU 1.000" for name in ("slid", "shrunk", "grown")
    ]
    viz.draw_overlap_cases(Figure().subplots(1, 3), 16, 24, 0.7, r=12.0)  # shrunk to nothing


def test_nbval_compares_an_explorer_without_its_picture_bytes():
    # The committed chapters are compared with fresh runs (make test): the PNG's bytes are
    # matplotlib's, but the picture's alt text and everything around it still count.
    from pathlib import Path

    config = (Path(__file__).parents[1] / "book" / "nbval_sanitize.cfg").read_text()
    patterns = re.findall(r"^regex: (.*)$\n^replace: (.*)$", config, flags=re.MULTILINE)

    def sanitized(text: str) -> str:
        for regex, replace in patterns:
            text = re.sub(regex, replace, text)
        return text

    page = widgets.size_explorer()._repr_html_()
    other_png = PICTURE.sub(lambda m: m.group(0).replace(m.group(2), "iVBORw0KGgo="), page)
    assert other_png != page and sanitized(other_png) == sanitized(page)
    other_alt = page.replace('alt="The explorer at width 20', 'alt="The explorer at width 21')
    assert other_alt != page and sanitized(other_alt) != sanitized(page)
