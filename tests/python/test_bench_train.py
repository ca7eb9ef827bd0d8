"""`twotower bench train` end to end on a tiny generated data set, beside the real reference.

Checks the report's shape and arithmetic: one line per round, each round's ratio is its
twotower pairs/s over its reference pairs/s, and the final `ratio` is the median of the rounds'.
"""
import json
import os
import re
import statistics
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = os.environ.get("TWOTOWER_CLI", str(ROOT / "build/twotower"))
REFERENCE = ROOT / "../shared/reference/seed_reference.py"


def number(text):
    return float(text.replace(",", ""))


@pytest.mark.skipif(not REFERENCE.exists(), reason=f"reference system absent: {REFERENCE}")
def test_rounds_and_median_ratio(tmp_path):
    out = subprocess.run(
        [CLI, "bench", "train", "--generate", "60,40,400", "--threads", "1", "--max-steps", "2", "--rounds", "3",
         "--work-dir", str(tmp_path), "training.batch_size=32"],
        capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    rounds = [re.match(r"round (\d)/3: twotower ([\d,.]+) pairs/s, reference ([\d,.]+) pairs/s, "
                       r"gemm ([\d.]+) GFLOP/s, onednn ([\d.]+) GFLOP/s, ratio ([\d.]+)$", line)
              for line in lines if line.startswith("round ")]
    assert len(rounds) == 3 and all(rounds), lines
    ratios = []
    for m in rounds:
        ours, ref, ratio = number(m.group(2)), number(m.group(3)), float(m.group(6))
        assert ours > 0 and ref > 0 and float(m.group(4)) > 0 and float(m.group(5)) > 0
        # pairs/s are printed rounded to whole pairs, the ratio to two decimals
        assert abs(ratio - ours / ref) <= 0.006 + ratio * 1e-3
        ratios.append(ratio)
    final = re.fullmatch(r"ratio ([\d.]+)", lines[-1])
    assert final, lines[-1]
    assert abs(float(final.group(1)) - statistics.median(ratios)) <= 0.0051
    assert any(line.startswith("medians of 3 rounds") for line in lines)
    # Both systems train on the device asked for (cpu by default).
    assert any(line.startswith("twotower: ") and "training.device=cpu" in line for line in lines), lines
    assert any(line.startswith("reference: ") and "--device cpu" in line for line in lines), lines


def test_an_unknown_device_is_refused(tmp_path):
    out = subprocess.run(
        [CLI, "bench", "train", "--generate", "60,40,400", "--device", "tpu", "--work-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert '--device: got "tpu", expected cpu or cuda' in out.stderr, out.stderr[-2000:]


@pytest.mark.skipif(not REFERENCE.exists(), reason=f"reference system absent: {REFERENCE}")
def test_both_systems_trace_the_same_steps(tmp_path):
    """--trace-steps: both systems trace steps 11-12 of their warm-up epoch (on the CPU their
    operators, so no kernel share), and the report says so per round and in the medians."""
    out = subprocess.run(
        [CLI, "bench", "train", "--generate", "60,40,400", "--threads", "1", "--max-steps", "14", "--rounds", "1",
         "--trace-steps", "2", "--work-dir", str(tmp_path), "training.batch_size=16"],
        capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    round_line = next(line for line in lines if line.startswith("round 1/1"))
    assert "kernel share twotower no GPU kernels, reference no GPU kernels" in round_line, round_line
    assert any(line.startswith("kernel share (steps 11-12 of epoch 1 traced") for line in lines), lines
    for trace in (tmp_path / "twotower" / "trace.json", tmp_path / "reference_trace.json"):
        events = json.loads(trace.read_text())["traceEvents"]
        assert any(e.get("cat") == "cpu_op" and e.get("name", "").startswith("aten::") for e in events), trace
    assert '"traced_steps": [11, 12]' in (tmp_path / "reference.log").read_text()


def test_a_trace_longer_than_the_epoch_is_refused(tmp_path):
    out = subprocess.run(
        [CLI, "bench", "train", "--generate", "60,40,400", "--max-steps", "14", "--trace-steps", "20",
         "--work-dir", str(tmp_path), "training.batch_size=16"],
        capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "--trace-steps: got 20 with 14 steps per epoch, expected at most 4" in out.stderr, out.stderr[-2000:]
