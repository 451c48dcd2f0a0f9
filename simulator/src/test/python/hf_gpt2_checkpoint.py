"""Writes a small random GPT2LMHeadModel checkpoint in Hugging Face's layout and its logits.

Independent of cpt: the weights are laid out as transformers' GPT-2 stores them (Conv1D weights
[in, out], c_attn's output split q | k | v, causal-mask buffers h.N.attn.bias), the safetensors
files are written by hand from the format (8-byte little-endian header length, JSON header with
dtype / shape / data_offsets, raw little-endian bytes), and the logits come from a GPT-2 forward
written here from transformers' rules, in float64. Only torch, json and struct are used.

With --generate N it also writes the greedy continuation of the tokens, as transformers'
generate(do_sample=False) draws it: each next token the argmax of a full forward over the sequence
so far (no cache), stopping after N tokens, at --eos, or when the sequence is the context + 1
(the last position's prediction; the model has no position for more).

usage: hf_gpt2_checkpoint.py --out DIR --tokens 1,2,3 [--dtype F32|F16|BF16] [--shards N]
       [--prefix] [--lm-head] [--layers 2 --d 32 --heads 4 --ctx 24 --vocab 64 --seed 0]
       [--generate N [--eos ID]]
"""
import argparse
import json
import math
import os
import struct

import torch


def names(layers):
    out = ["wte.weight", "wpe.weight"]
    for i in range(layers):
        p = "h.%d." % i
        out += [p + "ln_1.weight", p + "ln_1.bias", p + "attn.c_attn.weight", p + "attn.c_attn.bias",
                p + "attn.c_proj.weight", p + "attn.c_proj.bias", p + "ln_2.weight", p + "ln_2.bias",
                p + "mlp.c_fc.weight", p + "mlp.c_fc.bias", p + "mlp.c_proj.weight", p + "mlp.c_proj.bias"]
    return out + ["ln_f.weight", "ln_f.bias"]


def random_weights(a, gen):
    c, v, ctx = a.d, a.vocab, a.ctx
    shapes = {"wte.weight": [v, c], "wpe.weight": [ctx, c], "ln_f.weight": [c], "ln_f.bias": [c]}
    for i in range(a.layers):
        p = "h.%d." % i
        shapes.update({p + "ln_1.weight": [c], p + "ln_1.bias": [c], p + "ln_2.weight": [c], p + "ln_2.bias": [c],
                       p + "attn.c_attn.weight": [c, 3 * c], p + "attn.c_attn.bias": [3 * c],
                       p + "attn.c_proj.weight": [c, c], p + "attn.c_proj.bias": [c],
                       p + "mlp.c_fc.weight": [c, 4 * c], p + "mlp.c_fc.bias": [4 * c],
                       p + "mlp.c_proj.weight": [4 * c, c], p + "mlp.c_proj.bias": [c]})
    w = {}
    for n in names(a.layers):
        t = torch.randn(shapes[n], generator=gen, dtype=torch.float32)
        if n.endswith("ln_1.weight") or n.endswith("ln_2.weight") or n == "ln_f.weight":
            t = 1.0 + 0.1 * t
        elif n.endswith("bias"):
            t = 0.05 * t
        else:
            t = 0.08 * t
        w[n] = t
    return w


def to_bytes(t, dtype):
    flat = t.flatten().tolist()
    if dtype == "F32":
        return struct.pack("<%df" % len(flat), *flat)
    if dtype == "F16":
        return struct.pack("<%de" % len(flat), *flat)
    # BF16: the value is already bf16-exact (rounded below), so its float32 bits' top half is it.
    bits = struct.unpack("<%dI" % len(flat), struct.pack("<%df" % len(flat), *flat))
    return struct.pack("<%dH" % len(flat), *[b >> 16 for b in bits])


def write_safetensors(path, tensors):
    """tensors: list of (name, dtype, shape, bytes)."""
    header, at = {"__metadata__": {"format": "pt"}}, 0
    for name, dtype, shape, data in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [at, at + len(data)]}
        at += len(data)
    text = json.dumps(header).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for _, _, _, data in tensors:
            f.write(data)


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * w + b


def gpt2_logits(w, ids, heads, eps):
    """GPT2LMHeadModel's forward for one sequence: Conv1D is x @ W + b with W [in, out]."""
    T = len(ids)
    c = w["wte.weight"].shape[1]
    hd = c // heads
    x = w["wte.weight"][torch.tensor(ids)] + w["wpe.weight"][:T]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    layer = 0
    while "h.%d.ln_1.weight" % layer in w:
        p = "h.%d." % layer
        h = layer_norm(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        qkv = h @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
        q, k, v = qkv.split(c, dim=-1)
        q, k, v = [t.reshape(T, heads, hd).transpose(0, 1) for t in (q, k, v)]
        att = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        att = att.masked_fill(~mask, float("-inf")).softmax(-1)
        y = (att @ v).transpose(0, 1).reshape(T, c)
        x = x + y @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        h = layer_norm(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        m = gelu_tanh(h @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"])
        x = x + m @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
        layer += 1
    x = layer_norm(x, w["ln_f.weight"], w["ln_f.bias"], eps)
    return x @ w["wte.weight"].T


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--tokens", required=True)
    ap.add_argument("--dtype", default="F32", choices=["F32", "F16", "BF16"])
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--prefix", action="store_true", help="names with transformer. (as GPT2LMHeadModel saves them)")
    ap.add_argument("--lm-head", action="store_true", help="store lm_head.weight (equal to wte, as a tied save does)")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--d", type=int, default=32)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ctx", type=int, default=24)
    ap.add_argument("--vocab", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--generate", type=int, default=0, help="also write the greedy continuation of --tokens, N tokens")
    ap.add_argument("--eos", type=int, default=None, help="the end-of-text token that stops --generate")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    gen = torch.Generator().manual_seed(a.seed)
    w = random_weights(a, gen)
    # What the file holds is what the model is: round to the stored dtype first.
    store = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[a.dtype]
    w = {n: t.to(store).to(torch.float32) for n, t in w.items()}

    prefix = "transformer." if a.prefix else ""
    entries = [(prefix + n, a.dtype, list(w[n].shape), to_bytes(w[n], a.dtype)) for n in names(a.layers)]
    for i in range(a.layers):
        # The causal-mask buffers older transformers saved: [1, 1, n_positions, n_positions].
        mask = torch.tril(torch.ones(a.ctx, a.ctx)).reshape(1, 1, a.ctx, a.ctx)
        entries.append((prefix + "h.%d.attn.bias" % i, "F32", list(mask.shape), to_bytes(mask, "F32")))
    if a.lm_head:
        entries.append(("lm_head.weight", a.dtype, list(w["wte.weight"].shape), to_bytes(w["wte.weight"], a.dtype)))
    if a.shards == 1:
        write_safetensors(os.path.join(a.out, "model.safetensors"), entries)
    else:
        per = (len(entries) + a.shards - 1) // a.shards
        weight_map, total = {}, 0
        for k in range(a.shards):
            part = entries[k * per:(k + 1) * per]
            fname = "model-%05d-of-%05d.safetensors" % (k + 1, a.shards)
            write_safetensors(os.path.join(a.out, fname), part)
            for e in part:
                weight_map[e[0]] = fname
                total += len(e[3])
        with open(os.path.join(a.out, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
    config = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_layer": a.layers, "n_embd": a.d,
              "n_head": a.heads, "n_positions": a.ctx, "n_ctx": a.ctx, "vocab_size": a.vocab, "n_inner": None,
              "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5, "resid_pdrop": 0.1, "embd_pdrop": 0.1,
              "attn_pdrop": 0.1, "tie_word_embeddings": True}
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)

    ids = [int(t) for t in a.tokens.split(",")]
    w64 = {n: t.to(torch.float64) for n, t in w.items()}
    logits = gpt2_logits(w64, ids, a.heads, 1e-5)
    out = {"tokens": ids, "logits": logits.tolist()}
    if a.generate > 0:
        seq, greedy = list(ids), []
        while len(greedy) < a.generate and len(seq) <= a.ctx:
            nxt = int(gpt2_logits(w64, seq, a.heads, 1e-5)[-1].argmax())
            greedy.append(nxt)
            seq.append(nxt)
            if nxt == a.eos:
                break
        out["greedy"] = greedy
    with open(os.path.join(a.out, "reference_logits.json"), "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
