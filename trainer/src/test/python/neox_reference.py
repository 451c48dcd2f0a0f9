#!/usr/bin/env python3
"""Trains bench/gpu/reference_neox.py's model (the neox model as PyTorch code, HF GPT-NeoX's names)
from the torch engine's weights on the same batches, for NeoxReferenceTest.

  neox_reference.py DIR   DIR: config.json, <tensor name>.f32 (little-endian), tokens.i32
Prints one JSON line: {"losses": [...], "gradNorms": [...]}.
"""
import json
import os
import sys

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "..", "..", "bench", "gpu"))  # from the repository root
import reference_neox as ref  # noqa: E402

d = sys.argv[1]
cfg = json.load(open(os.path.join(d, "config.json")))
torch.set_num_threads(1)
net = ref.NeoX(cfg["layers"], cfg["dModel"], cfg["heads"], cfg["contextLength"], cfg["vocabSize"])
state = net.state_dict()
for name in list(state):
    if name in ("cos", "sin"):
        continue
    values = np.fromfile(os.path.join(d, name + ".f32"), dtype="<f4")
    assert values.size == state[name].numel(), name
    state[name] = torch.from_numpy(values.copy()).view_as(state[name])
net.load_state_dict(state)
steps, sequences, seq_len, micro = cfg["steps"], cfg["sequences"], cfg["seqLen"], cfg["microBatch"]
tokens = torch.from_numpy(np.fromfile(os.path.join(d, "tokens.i32"), dtype="<i4").astype(np.int64)).view(steps, sequences, seq_len + 1)
decay = [p for p in net.parameters() if p.dim() >= 2]
no_decay = [p for p in net.parameters() if p.dim() < 2]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg["weightDecay"]}, {"params": no_decay, "weight_decay": 0.0}],
                        lr=cfg["lr"], betas=(cfg["beta1"], cfg["beta2"]), eps=cfg["eps"])
losses, norms = [], []
for s in range(steps):
    opt.zero_grad(set_to_none=True)
    total = 0.0
    for start in range(0, sequences, micro):
        loss = net(tokens[s, start:start + micro])
        (loss * (micro / sequences)).backward()
        total += loss.item() * micro / sequences
    norms.append(torch.nn.utils.clip_grad_norm_(list(net.parameters()), cfg["gradClip"]).item())
    opt.step()
    losses.append(total)
print(json.dumps({"losses": losses, "gradNorms": norms}))
