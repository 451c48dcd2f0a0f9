#!/usr/bin/env python3
"""Writes a small random GPTNeoXForCausalLM (Pythia-shaped) checkpoint in Hugging Face's layout, and
the next-token losses of token rows under its own float64 GPT-NeoX, for HfNeoxCheckpointTest.

Independent of cpt: the weights are laid out as transformers' GPT-NeoX stores them (gpt_neox.
prefix, query_key_value's output interleaved per head as [heads, 3, head_dim], nn.Linear [out, in],
embed_out the untied head, the buffers attention.bias, attention.masked_bias and
attention.rotary_emb.inv_freq), the safetensors file is written by hand from the format (8-byte
little-endian header length, JSON header with dtype / shape / data_offsets, raw little-endian
bytes), and the forward is written here from GPT-NeoX's rules in float64: rotary on the first
int(head_dim * rotary_pct) dims with inv_freq = base^(-2i/rot) and rotate_half, parallel
(x + attn(ln1 x) + mlp(ln2 x)) or sequential residual, exact or tanh GELU. Only torch, json and
struct are used.

Prints one JSON line: {"losses": [per row mean cross-entropy], "alt": {rule: mean loss with that
rule changed}}; "alt" shows the rows are sensitive to each setting (a test that cannot tell the
settings apart proves nothing). With --logprobs it adds "logprobs": per row, log P(token i + 1 | tokens
0..i) for every position; with --generate N, "generated": the greedy continuation of the first row,
as transformers' generate(do_sample=False) draws it (each next token the argmax of a full float64
forward over the sequence so far; at most until the sequence fills --ctx).

usage: hf_neox_checkpoint.py --out DIR --rows 1,2,3;4,5,6 [--rotary-pct 0.25] [--rotary-base 10000]
       [--sequential] [--tied] [--act gelu|gelu_new] [--eps 1e-5] [--dtype F32|F16|BF16]
       [--layers 2 --d 32 --heads 4 --ctx 24 --vocab 80 --seed 0] [--no-buffers] [--tied-head-saved]
       [--logprobs] [--generate N]
"""
import argparse
import json
import math
import os
import struct

import torch


def layer_names(i):
    p = "gpt_neox.layers.%d." % i
    return [p + n for n in ("input_layernorm.weight", "input_layernorm.bias", "post_attention_layernorm.weight",
                            "post_attention_layernorm.bias", "attention.query_key_value.weight",
                            "attention.query_key_value.bias", "attention.dense.weight", "attention.dense.bias",
                            "mlp.dense_h_to_4h.weight", "mlp.dense_h_to_4h.bias", "mlp.dense_4h_to_h.weight",
                            "mlp.dense_4h_to_h.bias")]


def random_weights(a, gen):
    c, v = a.d, a.vocab
    shapes = {"gpt_neox.embed_in.weight": [v, c], "gpt_neox.final_layer_norm.weight": [c],
              "gpt_neox.final_layer_norm.bias": [c]}
    if not a.tied:
        shapes["embed_out.weight"] = [v, c]
    for i in range(a.layers):
        p = "gpt_neox.layers.%d." % i
        shapes.update({p + "input_layernorm.weight": [c], p + "input_layernorm.bias": [c],
                       p + "post_attention_layernorm.weight": [c], p + "post_attention_layernorm.bias": [c],
                       p + "attention.query_key_value.weight": [3 * c, c], p + "attention.query_key_value.bias": [3 * c],
                       p + "attention.dense.weight": [c, c], p + "attention.dense.bias": [c],
                       p + "mlp.dense_h_to_4h.weight": [4 * c, c], p + "mlp.dense_h_to_4h.bias": [4 * c],
                       p + "mlp.dense_4h_to_h.weight": [c, 4 * c], p + "mlp.dense_4h_to_h.bias": [c]})
    w = {}
    for n in sorted(shapes):
        t = torch.randn(shapes[n], generator=gen, dtype=torch.float32)
        if "layernorm.weight" in n or "layer_norm.weight" in n:
            t = 1.0 + 0.1 * t
        elif n.endswith("bias"):
            t = 0.05 * t
        elif "query_key_value" in n:
            t = 0.35 * t  # sharp attention: the rotary settings must show in the losses
        elif "dense_h_to_4h" in n:
            t = 0.3 * t  # pre-activations where exact and tanh GELU differ most
        elif "dense_4h_to_h" in n:
            t = 2.0 * t
        elif "embed" in n:
            t = 0.5 * t
        else:
            t = 0.12 * t
        w[n] = t
    return w


def to_bytes(t, dtype):
    flat = t.flatten().tolist()
    if dtype == "F32":
        return struct.pack("<%df" % len(flat), *flat)
    if dtype == "F16":
        return struct.pack("<%de" % len(flat), *flat)
    if dtype == "BOOL":
        return bytes(1 if x else 0 for x in flat)
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


def layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * w + b


def gelu(x, act):
    if act == "gelu":
        return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def neox_logits(w, ids, heads, rules):
    """GPTNeoXForCausalLM's forward for one sequence, float64."""
    T = len(ids)
    c = w["gpt_neox.embed_in.weight"].shape[1]
    hd = c // heads
    rot = int(hd * rules["rotary_pct"])
    inv_freq = 1.0 / (rules["rotary_base"] ** (torch.arange(0, rot, 2, dtype=torch.float64) / rot))
    freqs = torch.outer(torch.arange(T, dtype=torch.float64), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    eps = rules["eps"]
    x = w["gpt_neox.embed_in.weight"][torch.tensor(ids)]
    layer = 0
    while "gpt_neox.layers.%d.input_layernorm.weight" % layer in w:
        p = "gpt_neox.layers.%d." % layer
        h = layer_norm(x, w[p + "input_layernorm.weight"], w[p + "input_layernorm.bias"], eps)
        qkv = h @ w[p + "attention.query_key_value.weight"].T + w[p + "attention.query_key_value.bias"]
        qkv = qkv.view(T, heads, 3 * hd).transpose(0, 1)  # [heads, T, 3·hd]: q | k | v within each head
        q, k, v = qkv[..., :hd], qkv[..., hd:2 * hd], qkv[..., 2 * hd:]
        q = torch.cat((q[..., :rot] * cos + rotate_half(q[..., :rot]) * sin, q[..., rot:]), dim=-1)
        k = torch.cat((k[..., :rot] * cos + rotate_half(k[..., :rot]) * sin, k[..., rot:]), dim=-1)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        att = att.masked_fill(~mask, float("-inf")).softmax(-1)
        y = (att @ v).transpose(0, 1).reshape(T, c)
        a = y @ w[p + "attention.dense.weight"].T + w[p + "attention.dense.bias"]

        def mlp(z):
            n = layer_norm(z, w[p + "post_attention_layernorm.weight"], w[p + "post_attention_layernorm.bias"], eps)
            m = gelu(n @ w[p + "mlp.dense_h_to_4h.weight"].T + w[p + "mlp.dense_h_to_4h.bias"], rules["act"])
            return m @ w[p + "mlp.dense_4h_to_h.weight"].T + w[p + "mlp.dense_4h_to_h.bias"]

        if rules["parallel"]:
            x = x + a + mlp(x)
        else:
            x = x + a
            x = x + mlp(x)
        layer += 1
    x = layer_norm(x, w["gpt_neox.final_layer_norm.weight"], w["gpt_neox.final_layer_norm.bias"], eps)
    head = w["gpt_neox.embed_in.weight"] if rules["tied"] else w["embed_out.weight"]
    return x @ head.T


def row_losses(w, rows, heads, rules):
    out = []
    for r in rows:
        logits = neox_logits(w, r[:-1], heads, rules)
        out.append(torch.nn.functional.cross_entropy(logits, torch.tensor(r[1:])).item())
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--rows", required=True, help="token rows, ; between rows, , between tokens")
    ap.add_argument("--rotary-pct", type=float, default=0.25)
    ap.add_argument("--rotary-base", type=float, default=10000.0)
    ap.add_argument("--sequential", action="store_true", help="use_parallel_residual false")
    ap.add_argument("--tied", action="store_true", help="tie_word_embeddings true (no embed_out)")
    ap.add_argument("--tied-head-saved", action="store_true", help="with --tied, store embed_out.weight equal to embed_in")
    ap.add_argument("--act", default="gelu", choices=["gelu", "gelu_new"])
    ap.add_argument("--eps", type=float, default=1e-5)
    ap.add_argument("--dtype", default="F32", choices=["F32", "F16", "BF16"])
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--d", type=int, default=32)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ctx", type=int, default=24)
    ap.add_argument("--vocab", type=int, default=80)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-buffers", action="store_true")
    ap.add_argument("--logprobs", action="store_true", help="also print every position's log-probability of its next token")
    ap.add_argument("--generate", type=int, default=0, help="also print the greedy continuation of the first row, N tokens")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    gen = torch.Generator().manual_seed(a.seed)
    w = random_weights(a, gen)
    store = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[a.dtype]
    w = {n: t.to(store).to(torch.float32) for n, t in w.items()}

    names = ["gpt_neox.embed_in.weight"]
    for i in range(a.layers):
        names += layer_names(i)
    names += ["gpt_neox.final_layer_norm.weight", "gpt_neox.final_layer_norm.bias"]
    if not a.tied:
        names.append("embed_out.weight")
    entries = [(n, a.dtype, list(w[n].shape), to_bytes(w[n], a.dtype)) for n in names]
    if a.tied and a.tied_head_saved:
        entries.append(("embed_out.weight", a.dtype, list(w["gpt_neox.embed_in.weight"].shape),
                        to_bytes(w["gpt_neox.embed_in.weight"], a.dtype)))
    hd = a.d // a.heads
    rot = int(hd * a.rotary_pct)
    if not a.no_buffers:
        for i in range(a.layers):
            p = "gpt_neox.layers.%d.attention." % i
            mask = torch.tril(torch.ones(a.ctx, a.ctx, dtype=torch.bool)).reshape(1, 1, a.ctx, a.ctx)
            entries.append((p + "bias", "BOOL", [1, 1, a.ctx, a.ctx], to_bytes(mask, "BOOL")))
            entries.append((p + "masked_bias", "F32", [], to_bytes(torch.tensor(-1e9), "F32")))
            inv = 1.0 / (a.rotary_base ** (torch.arange(0, rot, 2, dtype=torch.float32) / rot))
            entries.append((p + "rotary_emb.inv_freq", "F32", [rot // 2], to_bytes(inv, "F32")))
    write_safetensors(os.path.join(a.out, "model.safetensors"), entries)
    config = {
        "architectures": ["GPTNeoXForCausalLM"], "model_type": "gpt_neox", "vocab_size": a.vocab,
        "hidden_size": a.d, "num_hidden_layers": a.layers, "num_attention_heads": a.heads,
        "intermediate_size": 4 * a.d, "max_position_embeddings": a.ctx, "hidden_act": a.act,
        "rotary_pct": a.rotary_pct, "rotary_emb_base": a.rotary_base, "use_parallel_residual": not a.sequential,
        "layer_norm_eps": a.eps, "tie_word_embeddings": a.tied, "initializer_range": 0.02, "use_cache": True,
        "bos_token_id": 0, "eos_token_id": 0, "torch_dtype": "float32",
    }
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)

    w64 = {n: t.to(torch.float64) for n, t in w.items()}
    rows = [[int(t) for t in r.split(",")] for r in a.rows.split(";")]
    rules = {"rotary_pct": a.rotary_pct, "rotary_base": a.rotary_base, "parallel": not a.sequential,
             "eps": a.eps, "act": a.act, "tied": a.tied}
    losses = row_losses(w64, rows, a.heads, rules)

    def mean_with(**change):
        r = dict(rules)
        r.update(change)
        v = row_losses(w64, rows, a.heads, r)
        return sum(v) / len(v)

    alt = {"rotary_pct": mean_with(rotary_pct=1.0 if a.rotary_pct != 1.0 else 0.5),
           "rotary_base": mean_with(rotary_base=a.rotary_base / 100),
           "use_parallel_residual": mean_with(parallel=not rules["parallel"]),
           "hidden_act": mean_with(act="gelu_new" if a.act == "gelu" else "gelu")}
    out = {"losses": losses, "alt": alt}
    if a.logprobs:
        out["logprobs"] = []
        for r in rows:
            lp = torch.log_softmax(neox_logits(w64, r[:-1], a.heads, rules), dim=-1)
            out["logprobs"].append([float(lp[i, r[i + 1]]) for i in range(len(r) - 1)])
    if a.generate > 0:
        seq, greedy = list(rows[0]), []
        while len(greedy) < a.generate and len(seq) <= a.ctx:
            nxt = int(neox_logits(w64, seq, a.heads, rules)[-1].argmax())
            greedy.append(nxt)
            seq.append(nxt)
        out["generated"] = greedy
    print(json.dumps(out))


if __name__ == "__main__":
    main()
