"""Focal loss, forward + backward: focal_loss_with_logits vs focal_loss_with_logits_fused.

Logits of shape (B, C, H, W) = (16, 80, 128, 128) (COCO's 80 classes on a 512 x 512
input at stride 4) start near the head's initial bias, -2.19; the targets are the
heatmaps of 20 random boxes per image. Both versions must agree (loss and gradient)
before they are timed.

Extra peak memory is the largest amount of memory a forward + backward pass needs on
top of what is held before it (logits and targets); it includes the gradient of the
logits, which both versions must produce (one tensor of the logits' size).

- On a GPU: ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats``,
  minus what was allocated before.
- On a CPU: each version runs in a fresh subprocess, which does one untimed pass (so
  that one-off allocations are made), resets the kernel's high-water mark of its
  resident memory (writing 5 to /proc/self/clear_refs), runs one pass, and reports
  VmHWM - VmRSS from /proc/self/status: the peak of the memory the process really
  touched, whoever allocated it. Tensors this large are mmap-ed by the C allocator
  and unmapped when freed, so they count while they live and not after. Linux only.

    python benchmarks/bench_focal.py [--device cuda] [--threads 1]
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import torch
from _timing import compare, describe, parse_args, report

from centernet_edu import encode_ctdet_batch, focal_loss_with_logits, focal_loss_with_logits_fused

VERSIONS = {
    "focal_loss_with_logits": focal_loss_with_logits,
    "focal_loss_with_logits_fused": focal_loss_with_logits_fused,
}


def make_inputs(shape, device: torch.device):
    B, C, H, W = shape
    g = torch.Generator().manual_seed(0)
    logits = (torch.randn(shape, generator=g) - 2.19).to(device).requires_grad_(True)
    size = torch.empty(B, 20, 2).uniform_(2, 64, generator=g)
    centre = torch.rand(B, 20, 2, generator=g) * torch.tensor([W, H])
    boxes = torch.cat([centre - size / 2, centre + size / 2], dim=2)
    labels = torch.randint(0, C, (B, 20), generator=g)
    gt = encode_ctdet_batch(boxes, labels, C, (H, W))["hm"].to(device)
    return logits, gt


def step(fn, logits, gt):
    logits.grad = None
    fn(logits, gt).backward()


def _status_bytes(key: str) -> int:
    text = Path("/proc/self/status").read_text()
    return int(re.search(rf"^{key}:\s+(\d+) kB", text, re.MULTILINE).group(1)) * 1024


def cpu_peak_in_this_process(name: str, shape) -> int:
    logits, gt = make_inputs(shape, torch.device("cpu"))
    step(VERSIONS[name], logits, gt)
    logits.grad = None
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
    before = _status_bytes("VmRSS")
    step(VERSIONS[name], logits, gt)
    return _status_bytes("VmHWM") - before


def cpu_peak(name: str, shape, threads: int) -> int:
    """Extra peak resident memory of one pass, measured in a fresh subprocess."""
    code = (
        "import sys, json, torch; sys.path.insert(0, sys.argv[1]); "
        "torch.set_num_threads(int(sys.argv[4])); import bench_focal as b; "
        "print(b.cpu_peak_in_this_process(sys.argv[2], json.loads(sys.argv[3])))"
    )
    here = str(Path(__file__).resolve().parent)
    out = subprocess.run(
        [sys.executable, "-c", code, here, name, json.dumps(list(shape)), str(threads)],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(out.stdout.split()[-1])


def cuda_peak(name: str, logits, gt) -> int:
    logits.grad = None
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    step(VERSIONS[name], logits, gt)
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() - before


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], repeats=7, shape="16,80,128,128")
    describe(args)
    shape = tuple(int(s) for s in args.shape.split(","))
    logits, gt = make_inputs(shape, args.device)
    print(f"logits {tuple(shape)}, {int(gt.eq(1).sum())} positives")

    results = {}
    for name, fn in VERSIONS.items():
        step(fn, logits, gt)
        results[name] = (fn(logits, gt).detach(), logits.grad.clone())
    (a, grad_a), (b, grad_b) = results.values()
    loss_err = abs(float(a - b)) / abs(float(a))
    grad_err = float((grad_a - grad_b).abs().max() / grad_a.abs().max())
    print(f"  loss {float(a):.6f} vs {float(b):.6f}: relative difference {loss_err:.1e}")
    print(f"  gradient: largest difference / largest entry = {grad_err:.1e}")
    if loss_err > 1e-5 or grad_err > 1e-5:
        raise SystemExit("the two versions disagree")
    del results, grad_a, grad_b

    fns = {name: (lambda fn=fn: step(fn, logits, gt)) for name, fn in VERSIONS.items()}
    times = compare(fns, args.device, args.repeats, args.warmup)
    base, new = VERSIONS
    report(times, base, new)

    print("extra peak memory of one forward + backward pass:")
    if args.device.type == "cuda":
        peaks = {name: cuda_peak(name, logits, gt) for name in VERSIONS}
    elif Path("/proc/self/clear_refs").exists():
        peaks = {name: cpu_peak(name, shape, torch.get_num_threads()) for name in VERSIONS}
    else:
        print("  (needs Linux /proc on a CPU)")
        return
    size = logits.numel() * logits.element_size()
    for name, peak in peaks.items():
        print(f"  {name:<28} {peak / 2**20:9.1f} MiB  ({peak / size:.2f} x the logits' size)")
    print(f"  memory ratio {new} / {base} = {peaks[new] / peaks[base]:.3f}")


if __name__ == "__main__":
    main()
