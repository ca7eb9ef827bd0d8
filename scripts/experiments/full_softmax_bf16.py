#!/usr/bin/env python3
"""The blocked full-softmax loss (train/loss.cc's algorithm, forward with both gradients) in fp32
and with bf16 products, timed in PyTorch at Games' shape (docs/quality.md: why the
bf16 products were not adopted).

    .venv/bin/python scripts/experiments/full_softmax_bf16.py [--batch 1024 --items 16859 --dim 64 --threads 2]
"""
import argparse
import time

import torch


def blocked_step(users, items, targets, temperature, dtype, rows=64):
    u, it = users.to(dtype), items.to(dtype)
    grad_items = torch.zeros(items.shape, dtype=torch.float32)
    for r in range(0, users.shape[0], rows):
        ub = u[r:r + rows]
        block = torch.mm(ub, it.t()).float().mul_(1 / temperature)
        block.sub_(block.max(1, keepdim=True)[0]).exp_()
        block.mul_(block.sum(1, keepdim=True).reciprocal())
        b = block.to(dtype)
        torch.mm(b, it)
        grad_items.add_(torch.mm(b.t(), ub).float())


def products_only(users, items, dtype, rows=64):
    u, it = users.to(dtype), items.to(dtype)
    for r in range(0, users.shape[0], rows):
        block = torch.mm(u[r:r + rows], it.t())
        torch.mm(block, it)
        torch.mm(block.t(), u[r:r + rows])


def ms(fn, *args, repeats=10):
    fn(*args)
    start = time.perf_counter()
    for _ in range(repeats):
        fn(*args)
    return (time.perf_counter() - start) / repeats * 1e3


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--items", type=int, default=16859)
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    users = torch.nn.functional.normalize(torch.randn(a.batch, a.dim))
    items = torch.nn.functional.normalize(torch.randn(a.items, a.dim))
    targets = torch.randint(0, a.items, (a.batch,))
    for dtype in (torch.float32, torch.bfloat16):
        print(f"{str(dtype):15s} whole loss {ms(blocked_step, users, items, targets, 0.05, dtype):6.1f} ms, "
              f"three products {ms(products_only, users, items, dtype):6.1f} ms")


if __name__ == "__main__":
    main()
