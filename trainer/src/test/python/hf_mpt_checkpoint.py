#!/usr/bin/env python3
"""Writes a small random MptForCausalLM checkpoint in Hugging Face's layout, and the next-token
losses of token rows under its own float64 MPT, for HfMptCheckpointTest.

Independent of cpt: the weights are laid out as transformers' MPT stores them (transformer. prefix,
wte, blocks.N.norm_1 / attn.Wqkv / attn.out_proj / norm_2 / ffn.up_proj / ffn.down_proj, norm_f,
nn.Linear [out, in], Wqkv's output q, k, v stacked; no biases anywhere, LayerNorms included; the
head tied to wte, optionally also saved as lm_head.weight), the safetensors file is written by hand
from the format, and the forward is written here from MPT's rules in float64: sequential pre-norm
blocks x + attn(norm_1 x), then + ffn(norm_2 x); exact GELU; attention scores q k^T / sqrt(head_dim)
plus ALiBi, slope_h * (j - i) for key j <= query i, with MPT's slopes (gen_slopes): 1 / 2^(m * bias_max
/ N) for m = 1..N over N = the next power of two >= heads, and when heads is not a power of two the
odd-indexed slopes then the even-indexed ones, the first heads of them. Only torch, json, struct.

Prints one JSON line: {"losses": [per row mean cross-entropy], "alt": {rule: mean loss with that rule
changed}}; "alt" shows the rows are sensitive to each rule (no ALiBi, another alibi_bias_max and, for
heads that are not a power of two, the naive slopes 2^(-bias_max * i / heads)). With --logprobs it
adds "logprobs": per row, log P(token i + 1 | tokens 0..i) for every position; with --generate N,
"generated": the greedy continuation of the first row, as transformers' generate(do_sample=False)
draws it (each next token the argmax of a full float64 forward over the sequence so far; at most until
the sequence fills --ctx).

usage: hf_mpt_checkpoint.py --out DIR --rows 1,2,3;4,5,6 [--alibi-bias-max 8] [--eps 1e-5]
       [--dtype F32|F16|BF16] [--head-saved] [--layers 2 --d 48 --heads 6 --ctx 24 --vocab 80 --seed 0]
       [--logprobs] [--generate N]
       hf_mpt_checkpoint.py --read DIR --rows ...   (a checkpoint someone else wrote, e.g. cpt export's:
       its config.json and one F32 model.safetensors, read by hand; prints {"losses": [...]})
"""
import argparse
import json
import math
import os
import struct

import torch


def tensor_shapes(a):
    c, v = a.d, a.vocab
    shapes = {"transformer.wte.weight": [v, c], "transformer.norm_f.weight": [c]}
    for i in range(a.layers):
        p = "transformer.blocks.%d." % i
        shapes.update({p + "norm_1.weight": [c], p + "attn.Wqkv.weight": [3 * c, c], p + "attn.out_proj.weight": [c, c],
                       p + "norm_2.weight": [c], p + "ffn.up_proj.weight": [4 * c, c], p + "ffn.down_proj.weight": [c, 4 * c]})
    return shapes


def random_weights(a, gen):
    shapes = tensor_shapes(a)
    w = {}
    for n in sorted(shapes):
        t = torch.randn(shapes[n], generator=gen, dtype=torch.float32)
        if "norm" in n:
            t = 1.0 + 0.1 * t
        elif "Wqkv" in n:
            t = 0.35 * t  # sharp attention: the ALiBi slopes must show in the losses
        elif "up_proj" in n:
            t = 0.3 * t
        elif "down_proj" in n:
            t = 2.0 * t
        elif "wte" in n:
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


def layer_norm(x, w, eps):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * w


def gelu(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def slopes(heads, bias_max, naive=False):
    """MPT's gen_slopes, in float64, as a list."""
    if naive:
        return [2.0 ** (-bias_max * i / heads) for i in range(1, heads + 1)]
    n = 1
    while n < heads:
        n *= 2
    s = [1.0 / 2.0 ** (m * bias_max / n) for m in range(1, n + 1)]
    if n != heads:
        s = (s[1::2] + s[::2])[:heads]
    return s


def mpt_logits(w, ids, heads, rules):
    """MptForCausalLM's forward for one sequence, float64."""
    T = len(ids)
    c = w["transformer.wte.weight"].shape[1]
    hd = c // heads
    eps = rules["eps"]
    if rules["alibi"]:
        m = torch.tensor(slopes(heads, rules["bias_max"], rules["naive"]), dtype=torch.float64)
    else:
        m = torch.zeros(heads, dtype=torch.float64)
    i = torch.arange(T, dtype=torch.float64)
    bias = m.view(heads, 1, 1) * (i.view(1, 1, T) - i.view(1, T, 1))  # [heads, query i, key j]: slope * (j - i)
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    x = w["transformer.wte.weight"][torch.tensor(ids)]
    layer = 0
    while "transformer.blocks.%d.norm_1.weight" % layer in w:
        p = "transformer.blocks.%d." % layer
        h = layer_norm(x, w[p + "norm_1.weight"], eps)
        qkv = h @ w[p + "attn.Wqkv.weight"].T
        q, k, v = (t.view(T, heads, hd).transpose(0, 1) for t in qkv.split(c, dim=-1))
        att = (q @ k.transpose(-1, -2)) / math.sqrt(hd) + bias
        att = att.masked_fill(~mask, float("-inf")).softmax(-1)
        y = (att @ v).transpose(0, 1).reshape(T, c)
        x = x + y @ w[p + "attn.out_proj.weight"].T
        n = layer_norm(x, w[p + "norm_2.weight"], eps)
        x = x + gelu(n @ w[p + "ffn.up_proj.weight"].T) @ w[p + "ffn.down_proj.weight"].T
        layer += 1
    x = layer_norm(x, w["transformer.norm_f.weight"], eps)
    return x @ w["transformer.wte.weight"].T


def row_losses(w, rows, heads, rules):
    out = []
    for r in rows:
        logits = mpt_logits(w, r[:-1], heads, rules)
        out.append(torch.nn.functional.cross_entropy(logits, torch.tensor(r[1:])).item())
    return out


def read_checkpoint(directory):
    """config.json and an F32 model.safetensors, parsed from the format by hand."""
    with open(os.path.join(directory, "config.json")) as f:
        config = json.load(f)
    with open(os.path.join(directory, "model.safetensors"), "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    w = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32", name + " is " + e["dtype"]
        start, end = e["data_offsets"]
        data = raw[8 + n + start:8 + n + end]
        values = struct.unpack("<%df" % ((end - start) // 4), data)
        w[name] = torch.tensor(values, dtype=torch.float64).view(e["shape"])
    return config, w


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out")
    ap.add_argument("--read", help="compute the losses of this checkpoint instead of writing one")
    ap.add_argument("--rows", required=True, help="token rows, ; between rows, , between tokens")
    ap.add_argument("--alibi-bias-max", type=float, default=8.0)
    ap.add_argument("--eps", type=float, default=1e-5)
    ap.add_argument("--dtype", default="F32", choices=["F32", "F16", "BF16"])
    ap.add_argument("--head-saved", action="store_true", help="also store lm_head.weight, equal to wte")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--d", type=int, default=48)
    ap.add_argument("--heads", type=int, default=6)
    ap.add_argument("--ctx", type=int, default=24)
    ap.add_argument("--vocab", type=int, default=80)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--logprobs", action="store_true", help="also print every position's log-probability of its next token")
    ap.add_argument("--generate", type=int, default=0, help="also print the greedy continuation of the first row, N tokens")
    a = ap.parse_args()
    if a.read:
        config, w64 = read_checkpoint(a.read)
        attn = config.get("attn_config", {})
        assert config["model_type"] == "mpt" and config["no_bias"] and attn.get("alibi", True)
        assert config.get("expansion_ratio", 4) == 4 and config.get("tie_word_embeddings", True)
        rows = [[int(t) for t in r.split(",")] for r in a.rows.split(";")]
        rules = {"alibi": True, "bias_max": attn.get("alibi_bias_max", 8), "naive": False,
                 "eps": config.get("layer_norm_epsilon", 1e-5)}
        print(json.dumps({"losses": row_losses(w64, rows, config["n_heads"], rules)}))
        return
    os.makedirs(a.out, exist_ok=True)
    gen = torch.Generator().manual_seed(a.seed)
    w = random_weights(a, gen)
    store = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[a.dtype]
    w = {n: t.to(store).to(torch.float32) for n, t in w.items()}

    entries = [(n, a.dtype, list(w[n].shape), to_bytes(w[n], a.dtype)) for n in sorted(w)]
    if a.head_saved:
        entries.append(("lm_head.weight", a.dtype, list(w["transformer.wte.weight"].shape),
                        to_bytes(w["transformer.wte.weight"], a.dtype)))
    write_safetensors(os.path.join(a.out, "model.safetensors"), entries)
    # As MPT-7B's config.json has it (learned_pos_emb true there too: transformers' MPT has no wpe).
    config = {
        "architectures": ["MptForCausalLM"], "model_type": "mpt", "vocab_size": a.vocab, "d_model": a.d,
        "n_layers": a.layers, "n_heads": a.heads, "max_seq_len": a.ctx, "expansion_ratio": 4,
        "attn_config": {"alibi": True, "alibi_bias_max": a.alibi_bias_max, "attn_impl": "torch", "attn_pdrop": 0.0,
                        "attn_type": "multihead_attention", "attn_uses_sequence_id": False, "clip_qkv": None,
                        "prefix_lm": False, "qk_ln": False, "softmax_scale": None},
        "no_bias": True, "norm_type": "low_precision_layernorm", "layer_norm_epsilon": a.eps,
        "learned_pos_emb": True, "logit_scale": None, "emb_pdrop": 0.0, "resid_pdrop": 0.0,
        "init_device": "cpu", "use_cache": False, "torch_dtype": "float32",
    }
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)

    w64 = {n: t.to(torch.float64) for n, t in w.items()}
    rows = [[int(t) for t in r.split(",")] for r in a.rows.split(";")]
    rules = {"alibi": True, "bias_max": a.alibi_bias_max, "naive": False, "eps": a.eps}
    losses = row_losses(w64, rows, a.heads, rules)

    def mean_with(**change):
        r = dict(rules)
        r.update(change)
        v = row_losses(w64, rows, a.heads, r)
        return sum(v) / len(v)

    alt = {"alibi": mean_with(alibi=False), "alibi_bias_max": mean_with(bias_max=a.alibi_bias_max / 2)}
    if a.heads & (a.heads - 1):
        alt["next_power_of_two_slopes"] = mean_with(naive=True)
    out = {"losses": losses, "alt": alt}
    if a.logprobs:
        out["logprobs"] = []
        for r in rows:
            lp = torch.log_softmax(mpt_logits(w64, r[:-1], a.heads, rules), dim=-1)
            out["logprobs"].append([float(lp[i, r[i + 1]]) for i in range(len(r) - 1)])
    if a.generate > 0:
        seq, greedy = list(rows[0]), []
        while len(greedy) < a.generate and len(seq) <= a.ctx:
            nxt = int(mpt_logits(w64, seq, a.heads, rules)[-1].argmax())
            greedy.append(nxt)
            seq.append(nxt)
        out["generated"] = greedy
    print(json.dumps(out))


if __name__ == "__main__":
    main()
