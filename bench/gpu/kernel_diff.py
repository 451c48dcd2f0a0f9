#!/usr/bin/env python3
"""Where the torch engine's step and PyTorch eager's differ, kernel by kernel.

Loads native/'s shim (built against this same PyTorch) into this Python process through ctypes,
so that torch.profiler sees the kernels it launches next to those of bench/gpu/reference_neox.py's
model; prints each one's device time per step by kernel, largest differences first.

  python3 bench/gpu/kernel_diff.py /tmp/cpt-native/libcpt_torch.so [--batch 32x2048 --micro-batch 8] [--kernels fused|eager]
"""
import argparse
import ctypes
import os
import sys

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_neox as ref  # noqa: E402


class Config(ctypes.Structure):  # native/cpt_torch.h: cpt_model_config
    _fields_ = [(n, ctypes.c_int32) for n in ("arch", "layers", "d_model", "heads", "context_length", "vocab_size", "device",
                                               "precision", "threads", "activation_checkpointing", "fused_kernels")] + \
               [("beta1", ctypes.c_double), ("beta2", ctypes.c_double), ("eps", ctypes.c_double), ("seed", ctypes.c_int64)]


class StepResult(ctypes.Structure):
    _fields_ = [("loss", ctypes.c_double), ("grad_norm", ctypes.c_double)]


def device_times(prof, steps):
    out = {}
    for e in prof.key_averages():
        t = getattr(e, "self_device_time_total", None)
        if t is None:
            t = getattr(e, "self_cuda_time_total", 0)
        if t > 0:  # kernels (and the few ops that run on the device themselves)
            out[e.key] = (t / 1e3 / steps, e.count // steps)
    return out


def profiled(step, steps):
    """Device time by kernel and op per step, over `steps` steps after three untimed ones."""
    for _ in range(3):
        step()
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        for _ in range(steps):
            step()
    return device_times(prof, steps)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("lib")
    ap.add_argument("--batch", default="32x2048")
    ap.add_argument("--micro-batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--kernels", choices=("fused", "eager"), default="fused", help="cpt's fused ops or ATen's, as cpt --kernels")
    args = ap.parse_args()
    sequences, seq_len = (int(v) for v in args.batch.split("x"))
    layers, d, heads, ctx, vocab = ref.PRESETS["405m"]
    batch = torch.randint(0, vocab, (sequences, seq_len + 1), dtype=torch.int32)

    lib = ctypes.CDLL(args.lib)
    lib.cpt_last_error.restype = ctypes.c_char_p
    model = ctypes.c_void_p()
    cfg = Config(1, layers, d, heads, ctx, vocab, 1, 1, 16, 0, 1 if args.kernels == "fused" else 0, 0.9, 0.95, 1e-8, 1)
    if lib.cpt_model_create(ctypes.byref(cfg), ctypes.byref(model)) != 0:
        sys.exit(lib.cpt_last_error().decode())
    res = StepResult()
    ptr = ctypes.c_void_p(batch.data_ptr())

    def cpt_step():
        rc = lib.cpt_train_step(model, ptr, sequences, seq_len, args.micro_batch, ctypes.c_double(1e-4), ctypes.c_double(0.1),
                                ctypes.c_double(1.0), ctypes.byref(res))
        if rc != 0:
            sys.exit(lib.cpt_last_error().decode())

    cpt = profiled(cpt_step, args.steps)
    lib.cpt_model_destroy(model)
    torch.cuda.empty_cache()

    torch.manual_seed(1)
    net = ref.NeoX(layers, d, heads, ctx, vocab).cuda()
    decay = [p for p in net.parameters() if p.dim() >= 2]
    no_decay = [p for p in net.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-4, betas=(0.9, 0.95), eps=1e-8, fused=True)
    params = list(net.parameters())

    def eager_step():
        rows = batch.cuda().long()
        opt.zero_grad(set_to_none=True)
        loss_sum = torch.zeros((), device="cuda")
        share = args.micro_batch / sequences
        for start in range(0, sequences, args.micro_batch):
            with torch.autocast("cuda", dtype=torch.bfloat16):
                loss = net(rows[start:start + args.micro_batch])
            (loss * share).backward()
            loss_sum = loss_sum + loss.detach() * share
        norm = torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        torch.stack((loss_sum.double(), norm.double())).cpu()

    eager = profiled(eager_step, args.steps)

    keys = set(cpt) | set(eager)
    rows = sorted(keys, key=lambda k: -abs(cpt.get(k, (0, 0))[0] - eager.get(k, (0, 0))[0]))
    # An op's row holds the kernels it launches itself, so a kernel counts in its row and its op's:
    # the sums are for comparing the two, not the step's time.
    print(f"device ms per step, ops and kernels both summed: cpt {sum(v[0] for v in cpt.values()):.1f}, "
          f"eager {sum(v[0] for v in eager.values()):.1f}")
    print(f"{'cpt ms':>8} {'n':>5} {'eager ms':>9} {'n':>5}  kernel or op")
    for k in rows[:40]:
        c, e = cpt.get(k, (0, 0)), eager.get(k, (0, 0))
        print(f"{c[0]:8.2f} {c[1]:5d} {e[0]:9.2f} {e[1]:5d}  {k[:110]}")


if __name__ == "__main__":
    main()
