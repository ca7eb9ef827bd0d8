"""Runs the PyTorch reference (seed_reference.py) unchanged and adds what `twotower bench train`
reads of it besides its epoch lines:

- its peak device memory, torch.cuda.max_memory_allocated (what twotower's history.json gives as
  device_peak_mib), as a last line {"probe": {"device_peak_mib": X}} on a CUDA device;
- with --trace FILE --trace-steps N, a trace of its optimizer steps W+1 .. W+N (W: --trace-after,
  10 as twotower's) by torch.profiler (the GPU's activity on CUDA, the operators on the CPU) in
  Chrome's trace format: the same stretch and the same recording as twotower's
  training.trace_steps, so that one reading (src/twotower/train/gpu/kernel_share.h) gives both
  systems' kernel share.

usage: reference_probe.py [--trace FILE --trace-steps N [--trace-after W]] -- seed_reference.py ARGS...
"""
import argparse
import atexit
import json
import runpy
import sys

import torch
from torch.optim.optimizer import register_optimizer_step_post_hook


def parse():
    if "--" not in sys.argv:
        sys.exit("reference_probe.py: expected -- before the reference's script and its arguments")
    split = sys.argv.index("--")
    ap = argparse.ArgumentParser(prog="reference_probe.py")
    ap.add_argument("--trace", help="write the trace here (Chrome trace format)")
    ap.add_argument("--trace-steps", type=int, default=0, help="optimizer steps traced (>= 1 with --trace)")
    ap.add_argument("--trace-after", type=int, default=10, help="optimizer steps before the trace starts")
    a = ap.parse_args(sys.argv[1:split])
    if a.trace and a.trace_steps < 1:
        ap.error(f"--trace-steps: got {a.trace_steps}, expected >= 1 with --trace")
    if len(sys.argv) <= split + 1:
        ap.error("expected the reference's script after --")
    return a, sys.argv[split + 1:]


def wait(device_seen):
    if device_seen["cuda"]:
        torch.cuda.synchronize()


def trace_steps(a, device_seen):
    """Starts torch.profiler after a.trace_after optimizer steps and stops it a.trace_steps later."""
    steps = {"done": 0}
    profiler = {}

    def after_step(optimizer, args, kwargs):
        steps["done"] += 1
        if steps["done"] == a.trace_after:
            device_seen["cuda"] = any(p.is_cuda for g in optimizer.param_groups for p in g["params"])
            activity = torch.profiler.ProfilerActivity.CUDA if device_seen["cuda"] else torch.profiler.ProfilerActivity.CPU
            wait(device_seen)
            profiler["p"] = torch.profiler.profile(activities=[activity])
            profiler["p"].start()
        elif steps["done"] == a.trace_after + a.trace_steps and "p" in profiler:
            wait(device_seen)
            profiler["p"].stop()
            profiler["p"].export_chrome_trace(a.trace)
            print(json.dumps({"probe": {"traced_steps": [a.trace_after + 1, a.trace_after + a.trace_steps]}}), flush=True)

    register_optimizer_step_post_hook(after_step)


def report_memory():
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        peak = torch.cuda.max_memory_allocated() / 1048576.0
        print(json.dumps({"probe": {"device_peak_mib": peak}}), flush=True)


def main():
    a, reference = parse()
    device_seen = {"cuda": False}
    if a.trace:
        trace_steps(a, device_seen)
    atexit.register(report_memory)
    sys.argv = reference
    runpy.run_path(reference[0], run_name="__main__")


if __name__ == "__main__":
    main()
