#!/usr/bin/python3
"""Training speed of the simulator's gpt2 model in PyTorch on the CPU, for comparison with SimBench.

Same model (reference_gpt.Gpt), shapes, optimizer (AdamW, weight decay on matrices and embeddings,
grad clip 1.0) and FLOP count (6N + 12*L*H*Q*T per token) as SimBench; prints one JSON line
{model, batch, threads, tokensPerSecond, msPerStep, gflops}.

  /usr/bin/python3 simulator/src/test/python/bench_torch.py --model toy-s --batch 16x128 --threads 2 --seconds 20
"""
import argparse
import json
import os
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("--model", default="toy-s")
ap.add_argument("--batch", default="16x128")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--seconds", type=float, default=20)
ap.add_argument("--blas-threads", type=int, default=None,
                help="OpenBLAS's own thread pool (default: --threads); torch's intra-op pool is --threads")
a = ap.parse_args()
# Thread pools are sized when the libraries load: set them before importing torch.
os.environ["OMP_NUM_THREADS"] = str(a.threads)
for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(a.blas_threads if a.blas_threads is not None else a.threads)

import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_gpt import Gpt  # noqa: E402

PRESETS = {"toy-xs": (2, 64, 2, 64, 256), "toy-s": (4, 128, 4, 128, 256), "toy-m": (6, 256, 8, 256, 256)}


def main():
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    layers, d, heads, ctx, vocab = PRESETS[a.model]
    b, t = (int(x) for x in a.batch.split("x"))
    model = Gpt(layers, d, heads, ctx, vocab)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.95), eps=1e-8)
    n = sum(p.numel() for p in model.parameters())
    flops_per_token = 6 * n + 12 * layers * d * t

    def step():
        tokens = torch.randint(0, vocab, (b, t + 1))
        opt.zero_grad(set_to_none=True)
        loss = model(tokens[:, :-1], tokens[:, 1:])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    warm_end = time.perf_counter() + a.seconds / 5
    s = 0
    while s < 3 or time.perf_counter() < warm_end:
        step()
        s += 1
    start = time.perf_counter()
    steps = 0
    while True:
        step()
        steps += 1
        now = time.perf_counter()
        if now - start >= a.seconds:
            break
    elapsed = now - start
    tps = steps * b * t / elapsed
    print(json.dumps({"model": a.model, "batch": a.batch, "threads": a.threads, "tokensPerSecond": round(tps, 1),
                      "msPerStep": round(elapsed * 1e3 / steps, 2), "gflops": round(flops_per_token * tps / 1e9, 2),
                      "blasThreads": int(os.environ["OPENBLAS_NUM_THREADS"]), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
