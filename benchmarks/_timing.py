"""What the benchmark scripts share: arguments, the clock, the report.

Each script runs the straightforward and the fast version of one kernel in the same
process, interleaved (a, b, a, b, ...), so that whatever else the machine is doing
slows both alike; it reports medians and their ratio, never a single run.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch


def parse_args(description: str, **defaults) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: torch's own)"
    )
    parser.add_argument("--repeats", type=int, default=defaults.pop("repeats", 11))
    parser.add_argument("--warmup", type=int, default=2)
    for name, value in defaults.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda needs a CUDA build of torch and a GPU")
    args.device = torch.device(args.device)
    return args


def describe(args: argparse.Namespace) -> None:
    where = (
        torch.cuda.get_device_name(args.device)
        if args.device.type == "cuda"
        else f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    )
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"torch {torch.__version__}, {args.device.type} ({where}), "
        f"{torch.get_num_threads()} CPU threads, load average {load}"
    )


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def compare(fns: dict, device: torch.device, repeats: int, warmup: int) -> dict:
    """Seconds per call of each function, run round-robin: ``{name: [t, ...]}``."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            sync(device)
            start = time.perf_counter()
            fn()
            sync(device)
            times[name].append(time.perf_counter() - start)
    return times


def report(times: dict, baseline: str, new: str) -> float:
    """Print median and quartiles of each, and the ratio of medians new / baseline."""
    for name, ts in times.items():
        q1, med, q3 = statistics.quantiles(ts, n=4) if len(ts) > 1 else (ts[0],) * 3
        print(
            f"  {name:<28} median {med * 1e3:9.2f} ms   (quartiles {q1 * 1e3:.2f} - {q3 * 1e3:.2f})"
        )
    ratio = statistics.median(times[new]) / statistics.median(times[baseline])
    print(f"  time ratio {new} / {baseline} = {ratio:.3f}  ({1 / ratio:.1f}x faster)")
    return ratio
