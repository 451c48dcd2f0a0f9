#!/usr/bin/env python3
"""The torch engine's neox model in plain PyTorch, for the speed ratio of bench/gpu/run.sh.

The same model as native/cpt_torch.cpp builds: GPT-NeoX (Pythia) blocks with a parallel residual
(x + attn(ln1(x)) + mlp(ln2(x))), rotary embeddings on a quarter of each head, exact GELU, untied
input and output embeddings, LayerNorm eps 1e-5; fp32 weights with bf16 autocast around each
forward; causal scaled_dot_product_attention; AdamW (fused on CUDA) decaying only matrices and
embeddings, global-norm clip 1.0, gradient accumulation over micro-batches; one read of loss and
gradient norm per step. It prints the JSON fields that `cpt bench --engine torch` prints.

  python3 bench/gpu/reference_neox.py --model 405m --batch 32x2048 --micro-batch 8 \
      --device cuda --precision bf16 --mode eager|compile --warmup 10 --steps 90
"""
import argparse
import contextlib
import json
import math
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

PRESETS = {  # core/src/main/java/dev/cpt/spec/ModelSpec.java: layers, d_model, heads, context, vocab
    "toy-neox": (2, 128, 4, 128, 256),
    "405m": (24, 1024, 16, 2048, 50432),
    "10b": (36, 4608, 36, 2048, 50432),
}


def flops_per_token(layers, d, n_params, seq_len):
    """6N + 12·L·H·Q·T, as dev.cpt.plan.ModelSize.flopsPerToken counts."""
    return 6 * n_params + 12 * layers * d * seq_len


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.d, self.heads = d, heads
        self.input_layernorm = nn.LayerNorm(d, eps=1e-5)
        self.post_attention_layernorm = nn.LayerNorm(d, eps=1e-5)
        self.attention = nn.Module()
        self.attention.query_key_value = nn.Linear(d, 3 * d)
        self.attention.dense = nn.Linear(d, d)
        self.mlp = nn.Module()
        self.mlp.dense_h_to_4h = nn.Linear(d, 4 * d)
        self.mlp.dense_4h_to_h = nn.Linear(4 * d, d)

    def forward(self, x, cos, sin):
        b, t, d = x.shape
        hd = d // self.heads
        qkv = self.attention.query_key_value(self.input_layernorm(x))
        q, k, v = (z.view(b, t, self.heads, hd).transpose(1, 2) for z in qkv.split(d, dim=2))
        q, k = rotary(q, cos, sin), rotary(k, cos, sin)
        y = attention(q, k, v).transpose(1, 2).contiguous().view(b, t, d)
        a = self.attention.dense(y)
        m = self.mlp.dense_4h_to_h(F.gelu(self.mlp.dense_h_to_4h(self.post_attention_layernorm(x))))
        return x + a + m


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rotary(x, cos, sin):
    rot = cos.shape[-1]
    t = x.shape[2]
    cos, sin = cos[:t].to(x.dtype), sin[:t].to(x.dtype)
    x_rot, x_pass = x[..., :rot], x[..., rot:]
    return torch.cat((x_rot * cos + rotate_half(x_rot) * sin, x_pass), dim=-1)


def attention(q, k, v):
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    t = q.shape[2]
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    mask = torch.ones(t, t, dtype=torch.bool, device=q.device).triu(1)
    return scores.masked_fill(mask, float("-inf")).softmax(-1) @ v


class NeoX(nn.Module):
    def __init__(self, layers, d, heads, ctx, vocab):
        super().__init__()
        self.embed_in = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList(Block(d, heads) for _ in range(layers))
        self.final_layer_norm = nn.LayerNorm(d, eps=1e-5)
        self.embed_out = nn.Linear(d, vocab, bias=False)
        hd = d // heads
        rot = max(2, (hd // 4) // 2 * 2)
        inv = 1.0 / (10000.0 ** (torch.arange(0, rot, 2, dtype=torch.float64) / rot))
        freqs = torch.outer(torch.arange(ctx, dtype=torch.float64), inv)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.register_buffer("cos", emb.cos().float(), persistent=False)
        self.register_buffer("sin", emb.sin().float(), persistent=False)
        std, residual = 0.02, 0.02 / math.sqrt(2 * layers)
        for name, p in self.named_parameters():
            if p.dim() == 1:
                nn.init.ones_(p) if "layernorm" in name or "layer_norm" in name else nn.init.zeros_(p)
            else:
                nn.init.normal_(p, std=residual if name.endswith(("attention.dense.weight", "dense_4h_to_h.weight")) else std)

    def forward(self, rows):
        idx, targets = rows[:, :-1], rows[:, 1:]
        x = self.embed_in(idx)
        for block in self.layers:
            x = block(x, self.cos, self.sin)
        logits = self.embed_out(self.final_layer_norm(x))
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="405m", choices=sorted(PRESETS))
    ap.add_argument("--batch", default="32x2048", help="sequences x sequence length")
    ap.add_argument("--micro-batch", type=int, default=0, help="sequences per forward/backward (default: all)")
    ap.add_argument("--device", default="cuda", choices=["cpu", "cuda"])
    ap.add_argument("--precision", default="bf16", choices=["fp32", "bf16"])
    ap.add_argument("--mode", default="eager", choices=["eager", "compile"])
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--steps", type=int, default=90)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--peak-tflops", type=float, default=0, help="default: 989 bf16, 67 fp32 (an H100 SXM)")
    args = ap.parse_args()

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    layers, d, heads, ctx, vocab = PRESETS[args.model]
    sequences, seq_len = (int(v) for v in args.batch.split("x"))
    micro = args.micro_batch or sequences
    if sequences % micro:
        sys.exit(f"--micro-batch {micro} does not divide {sequences}")
    device = torch.device(args.device)
    torch.manual_seed(1)
    model = NeoX(layers, d, heads, ctx, vocab).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    fused = device.type == "cuda" and "fused" in torch.optim.AdamW.__init__.__code__.co_varnames
    extra = {"fused": True} if fused else {}
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-4, betas=(0.9, 0.95), eps=1e-8, **extra)
    forward = torch.compile(model) if args.mode == "compile" else model
    autocast = args.precision == "bf16" and device.type == "cuda"
    forward_context = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if autocast else contextlib.nullcontext

    gen = torch.Generator().manual_seed(1)
    batches = [torch.randint(0, vocab, (sequences, seq_len + 1), generator=gen, dtype=torch.int32) for _ in range(4)]
    params = list(model.parameters())

    def step(batch):
        rows = batch.to(device).long()
        opt.zero_grad(set_to_none=True)
        loss_sum = torch.zeros((), device=device)
        share = micro / sequences
        for start in range(0, sequences, micro):
            with forward_context():
                loss = forward(rows[start:start + micro])
            (loss * share).backward()
            loss_sum = loss_sum + loss.detach() * share
        norm = torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        both = torch.stack((loss_sum.double(), norm.double())).cpu()  # the one wait for the device
        return both[0].item(), both[1].item()

    compile_start = time.perf_counter()
    for s in range(args.warmup):
        step(batches[s % 4])
    warmup_seconds = time.perf_counter() - compile_start
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    ms = []
    for s in range(args.steps):
        start = time.perf_counter()
        loss, _ = step(batches[s % 4])
        ms.append((time.perf_counter() - start) * 1e3)
    median = statistics.median(ms)
    tokens_per_second = sequences * seq_len / (median / 1e3)
    tflops = flops_per_token(layers, d, n_params, seq_len) * tokens_per_second / 1e12
    peak = args.peak_tflops or (989 if args.precision == "bf16" else 67)
    print(json.dumps({
        "impl": "pytorch-" + args.mode, "model": args.model, "batch": args.batch, "microBatch": micro,
        "device": args.device, "precision": args.precision, "steps": args.steps,
        "tokensPerSecond": round(tokens_per_second, 1), "msPerStep": round(median, 2), "tflops": round(tflops, 2),
        "mfu": round(tflops / peak, 4) if device.type == "cuda" else None,
        "peakMemoryGiB": round(torch.cuda.max_memory_allocated() / 2**30, 2) if device.type == "cuda" else None,
        "parameters": n_params, "torch": torch.__version__, "warmupSeconds": round(warmup_seconds, 1),
        "lastLoss": round(loss, 4)}), flush=True)


if __name__ == "__main__":
    main()
