#!/usr/bin/python3
"""PyTorch reference for the simulator's gpt2 model (run by SimulatorTorchParityTest).

Reads the simulator's weights (safetensors, parsed here by hand with struct + json: linear weights
are [out, in], torch nn.Linear's layout, so they load as they are) and a batch (raw little-endian
int32, `sequences` rows of `seqlen + 1` tokens), then writes into --out:
  grads.safetensors  the gradient of every parameter at the given weights (same names)
  result.json        {"loss": loss at the given weights, "gradNorm": its total gradient norm,
                      "losses": training loss at each of --steps AdamW steps (before each update),
                      "gradNorms": the norms before clipping, "finalLoss": loss after the last step}
AdamW is torch.optim.AdamW with weight decay on the matrices and embeddings only, and
clip_grad_norm_ before each step (when --clip > 0).
"""
import argparse
import json
import math
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    for name, e in header.items():
        assert e["dtype"] == "F32", f"{path}: {name} is {e['dtype']}, not F32"
        begin, end = e["data_offsets"]
        t = torch.frombuffer(bytearray(data[base + begin:base + end]), dtype=torch.float32)
        tensors[name] = t.reshape(e["shape"]).clone()
    return meta, tensors


def write_safetensors(path, tensors, meta=None):
    header = {}
    if meta:
        header["__metadata__"] = meta
    offset = 0
    blobs = []
    for name, t in tensors.items():
        b = t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


class Attention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.c_attn = nn.Linear(d, 3 * d)
        self.c_proj = nn.Linear(d, d)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.c_attn(x).split(d, dim=2)
        hs = d // self.heads
        q = q.view(b, t, self.heads, hs).transpose(1, 2)
        k = k.view(b, t, self.heads, hs).transpose(1, 2)
        v = v.view(b, t, self.heads, hs).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))
        mask = torch.ones(t, t, dtype=torch.bool).tril()
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, d)
        return self.c_proj(y)


class Mlp(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.c_fc = nn.Linear(d, 4 * d)
        self.c_proj = nn.Linear(4 * d, d)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d, eps=1e-5)
        self.attn = Attention(d, heads)
        self.ln_2 = nn.LayerNorm(d, eps=1e-5)
        self.mlp = Mlp(d)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class Gpt(nn.Module):
    """gpt2: learned positions, pre-LayerNorm blocks, tanh-GELU MLP 4x, LM head tied to wte."""

    def __init__(self, layers, d, heads, context, vocab):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(context, d)
        self.h = nn.ModuleList([Block(d, heads) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(d, eps=1e-5)

    def forward(self, idx, targets):
        t = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(t))
        for block in self.h:
            x = block(x)
        logits = F.linear(self.ln_f(x), self.wte.weight)
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.reshape(-1))


def model_from(meta, tensors):
    m = Gpt(int(meta["layers"]), int(meta["dModel"]), int(meta["heads"]), int(meta["contextLength"]),
            int(meta["vocabSize"]))
    with torch.no_grad():
        names = dict(m.named_parameters())
        assert set(names) == set(tensors), f"tensor names differ: {set(names) ^ set(tensors)}"
        for name, p in names.items():
            assert tuple(p.shape) == tuple(tensors[name].shape), f"{name}: {tuple(p.shape)} vs {tuple(tensors[name].shape)}"
            p.copy_(tensors[name])
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--batch", required=True)
    ap.add_argument("--sequences", type=int, required=True)
    ap.add_argument("--seqlen", type=int, required=True)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--beta1", type=float, default=0.9)
    ap.add_argument("--beta2", type=float, default=0.95)
    ap.add_argument("--eps", type=float, default=1e-8)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)

    meta, tensors = read_safetensors(a.weights)
    model = model_from(meta, tensors)
    with open(a.batch, "rb") as f:
        raw = f.read()
    tokens = torch.tensor(struct.unpack(f"<{len(raw) // 4}i", raw), dtype=torch.long)
    tokens = tokens.view(a.sequences, a.seqlen + 1)
    idx, targets = tokens[:, :-1], tokens[:, 1:]

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.wd}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(a.beta1, a.beta2), eps=a.eps)
    losses, norms = [], []
    for step in range(a.steps):
        opt.zero_grad(set_to_none=True)
        loss = model(idx, targets)
        loss.backward()
        norm = math.sqrt(sum(float(p.grad.double().pow(2).sum()) for p in model.parameters()))
        if step == 0:
            write_safetensors(os.path.join(a.out, "grads.safetensors"),
                              {n: p.grad for n, p in model.named_parameters()})
        if a.clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip)
        opt.step()
        losses.append(float(loss))
        norms.append(norm)
    with torch.no_grad():
        final = float(model(idx, targets))
    with open(os.path.join(a.out, "result.json"), "w") as f:
        json.dump({"loss": losses[0], "gradNorm": norms[0], "losses": losses, "gradNorms": norms,
                   "finalLoss": final, "torch": torch.__version__}, f)


if __name__ == "__main__":
    main()
