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
- On a CPU, two ways. (1) Tensor memory: the torch profiler with ``profile_memory``
  records every allocation and free of torch's CPU allocator with the running total
  of bytes allocated; its peak during the pass, minus its value at the start, is the
  extra tensor memory, exactly, whatever the C allocator underneath does. (2) Resident
  memory, as a cross-check: each version runs in a fresh subprocess, which does one
  untimed pass, hands the C heap's free memory back to the system (glibc's
  malloc_trim), resets the kernel's high-water mark of its resident memory (writing 5
  to /proc/self/clear_refs), runs one pass, and reports VmHWM - VmRSS from
  /proc/self/status: the peak of the memory the process really touched. It adds what
  the C allocator does with freed blocks (re-touching pages it had returned), so it
  reads somewhat above (1), and varies by a few tens of MiB between runs. Linux
  with glibc only; ``--resident 0`` skips it.

    python benchmarks/bench_focal.py [--device cuda] [--threads 1]
"""

import ctypes
import ctypes.util
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
from _timing import compare, describe, parse_args, report
from torch.profiler import ProfilerActivity, profile

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
    ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim(0)  # hand freed heap back
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


def cpu_tensor_peak(name: str, logits, gt) -> int:
    """Peak of the bytes torch's CPU allocator holds for one pass, above the start."""
    logits.grad = None
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step(VERSIONS[name], logits, gt)
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "trace.json"
        prof.export_chrome_trace(str(trace))
        events = json.loads(trace.read_text())["traceEvents"]
    memory = [
        e["args"] for e in sorted(events, key=lambda e: e["ts"]) if e.get("name") == "[memory]"
    ]
    # "Total Allocated" runs on across profiles: measure from its value at the start.
    start = memory[0]["Total Allocated"] - memory[0]["Bytes"]
    return max(e["Total Allocated"] for e in memory) - start


def cuda_peak(name: str, logits, gt) -> int:
    logits.grad = None
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    step(VERSIONS[name], logits, gt)
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() - before


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], repeats=7, shape="16,80,128,128", resident=1)
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
    size = logits.numel() * logits.element_size()
    if args.device.type == "cuda":
        methods = {"CUDA allocator": {name: cuda_peak(name, logits, gt) for name in VERSIONS}}
    else:
        methods = {"tensors (profiler)": {n: cpu_tensor_peak(n, logits, gt) for n in VERSIONS}}
        if args.resident and Path("/proc/self/clear_refs").exists():
            threads = torch.get_num_threads()
            methods["resident (VmHWM)"] = {n: cpu_peak(n, shape, threads) for n in VERSIONS}
    for method, peaks in methods.items():
        print(f"  {method}:")
        for name, peak in peaks.items():
            print(f"    {name:<28} {peak / 2**20:8.1f} MiB  ({peak / size:.2f} x the logits)")
        print(f"    memory ratio {new} / {base} = {peaks[new] / peaks[base]:.3f}")


if __name__ == "__main__":
    main()
