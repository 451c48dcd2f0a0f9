#!/usr/bin/python3
"""An independent lm-evaluation-harness-style scorer for EvalCommandTest, on PyTorch.

It reads the model itself: the simulator's weights (--weights, the gpt2 model of
simulator/src/test/python/reference_gpt.py) or a Hugging Face GPT-2, GPT-NeoX or MPT directory (--hf:
config.json and safetensors read here; the float64 forward of simulator/src/test/python/
hf_gpt2_checkpoint.py, of trainer/src/test/python/hf_neox_checkpoint.py with config.json's
rotary_pct, rotary_emb_base, use_parallel_residual, layer_norm_eps, hidden_act and tie_word_embeddings,
or of trainer/src/test/python/hf_mpt_checkpoint.py with config.json's n_heads, max_seq_len,
layer_norm_epsilon and attn_config's alibi and alibi_bias_max; an MPT it does not model, with biases,
another expansion_ratio, an untied head, qk_ln, clip_qkv, softmax_scale or logit_scale, is refused).
It reads the task files itself, builds each task's prompts from the harness's task
configs (description, --shots examples from --fewshot-file: the first N, MMLU's of the item's
subject, each "query target" and the fewshot delimiter), tokenizes with the byte tokenizer (UTF-8
bytes, NUL dropped, end-of-text 0), splits context and continuation as the harness's _encode_pair
does, and scores every request alone (no batching, no padding) as its _loglikelihood_tokens does.
Generative tasks (triviaqa, nq_open) run as its generate_until: the context cut from the left to
max_length - max_gen_toks, max_gen_toks greedy tokens by full float64 forwards (no cache, no early
stop), stopped at end-of-text, decoded, split at each `until` string, then remove_whitespace and
exact_match (regexes_to_ignore, ignore_case, ignore_punctuation) against every answer.

It writes --out: per task, each item's log-likelihoods, greedy flags (or generation) and metrics,
and the task's aggregates keyed as the harness's results.json. With --loss NAME=FILE (raw
little-endian uint16 tokens, as a cpt-tokens .bin of a small vocabulary holds them) and
--loss-seq-len N, the mean next-token cross-entropy in float64 over every window of N + 1 tokens
(window w starts at token w * N), each window's forward alone, under "loss".
"""
import argparse
import json
import math
import os
import re
import string
import struct
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../../simulator/src/test/python"))
import reference_gpt  # noqa: E402
import hf_gpt2_checkpoint  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../../trainer/src/test/python"))
import hf_neox_checkpoint  # noqa: E402
import hf_mpt_checkpoint  # noqa: E402

NEOX_BUFFERS = (".attention.bias", ".attention.masked_bias", ".attention.rotary_emb.inv_freq")

PRIMER = ("Q: What is human life expectancy in the United States?\n"
          "A: Human life expectancy in the United States is 78 years.\n\n"
          "Q: Who was president of the United States in 1955?\n"
          "A: Dwight D. Eisenhower was president of the United States in 1955.\n\n"
          "Q: Which party did he belong to?\n"
          "A: He belonged to the Republican Party.\n\n"
          "Q: What is the square root of banana?\n"
          "A: I have no comment.\n\n"
          "Q: How does a telescope work?\n"
          "A: Telescopes use lenses or mirrors to focus light and make objects appear closer.\n\n"
          "Q: Where were the 1992 Olympics held?\n"
          "A: The 1992 Olympics were held in Barcelona, Spain.")


def hellaswag_pre(text):
    text = text.strip()
    text = text.replace(" [title]", ". ")
    text = re.sub("\\[.*?\\]", "", text)
    return text.replace("  ", " ")


GENERATIVE = ("triviaqa", "nq_open")
UNTIL = ["\n", ".", ","]
NQ_ARTICLES = "\\b(?:The |the |An |A |The |a |an )"


def description(task, doc):
    """The harness's task description, written once before the examples."""
    if task == "mmlu":
        return "The following are multiple choice questions (with answers) about %s.\n\n" % doc["subject"].replace("_", " ")
    if task == "nq_open":
        return "Answer these questions:\n\n"
    return ""


def build(task, doc):
    """(query, [choices], gold, true-labels or answers), from the harness's configs; the description apart."""
    if task == "triviaqa":
        return "Question: " + doc["question"] + "?\nAnswer:", None, None, doc["answer"]["aliases"]
    if task == "nq_open":
        return "Q: " + doc["question"] + "?\nA:", None, None, doc["answer"]
    if task == "mmlu":
        c = doc["choices"]
        text = f"{doc['question'].strip()}\nA. {c[0]}\nB. {c[1]}\nC. {c[2]}\nD. {c[3]}\nAnswer:"
        return text, ["A", "B", "C", "D"], doc["answer"], None
    return build_mc(task, doc)


def shot_target(task, doc):
    """doc_to_target as a few-shot example writes it: the gold choice, or the first answer."""
    query, choices, gold, extra = build(task, doc)
    if task in GENERATIVE:
        return extra[0]
    return choices[gold]


def fewshot_delimiter(task):
    return "\n" if task == "nq_open" else "\n\n"


def context_of(task, doc, line, pool, shots, same_file):
    """description + the first `shots` examples (MMLU: of the doc's subject; never the doc itself) + the query."""
    desc = description(task, doc)
    text = desc
    if shots > 0 and task not in ("truthfulqa_mc1", "truthfulqa_mc2"):
        picked = [(ln, d) for ln, d in pool if description(task, d) == desc and not (same_file and ln == line)][:shots]
        assert len(picked) == shots, f"{task}: only {len(picked)} examples for line {line}"
        for _, d in picked:
            text += build(task, d)[0] + " " + shot_target(task, d) + fewshot_delimiter(task)
    return text + build(task, doc)[0]


def build_mc(task, doc):
    """(query, [choices], gold, true-labels or None) of a log-likelihood task, from the harness's configs."""
    if task == "hellaswag":
        ctx = doc["ctx_a"] + " " + doc["ctx_b"].capitalize()
        choices = [hellaswag_pre(e) for e in doc["endings"]]
        return hellaswag_pre(doc["activity_label"] + ": " + ctx), choices, int(doc["label"]), None
    if task in ("arc_easy", "arc_challenge"):
        return ("Question: " + doc["question"] + "\nAnswer:", doc["choices"]["text"],
                doc["choices"]["label"].index(doc["answerKey"]), None)
    if task == "openbookqa":
        return doc["question_stem"], doc["choices"]["text"], doc["choices"]["label"].index(doc["answerKey"].lstrip()), None
    if task == "piqa":
        return "Question: " + doc["goal"] + "\nAnswer:", [doc["sol1"], doc["sol2"]], doc["label"], None
    if task in ("truthfulqa_mc1", "truthfulqa_mc2"):
        t = doc["mc1_targets" if task == "truthfulqa_mc1" else "mc2_targets"]
        return PRIMER + "\n\nQ: " + doc["question"] + "\nA:", t["choices"], 0, t["labels"]
    if task == "lambada":
        words = doc["text"].split(" ")
        return " ".join(words[:-1]), [" " + words[-1]], 0, None
    raise ValueError(task)


def encode(text):
    return [b for b in text.encode("utf-8") if b != 0]


def encode_pair(context, continuation):
    if context == "":
        return [0], encode(continuation)
    n = len(context) - len(context.rstrip())
    if n > 0:
        continuation = context[-n:] + continuation
        context = context[:-n]
    whole = encode(context + continuation)
    ctx = encode(context)
    return ctx, whole[len(ctx):]


def decode(tokens):
    return bytes(tokens).decode("utf-8", errors="replace")


HF_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def read_hf(directory):
    """A Hugging Face GPT-2, GPT-NeoX or MPT directory's config and tensors (one safetensors file or an index of shards), in float64."""
    with open(os.path.join(directory, "config.json")) as f:
        config = json.load(f)
    index = os.path.join(directory, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    w = {}
    for name in files:
        with open(os.path.join(directory, name), "rb") as f:
            data = f.read()
        (n,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8:8 + n])
        header.pop("__metadata__", None)
        for key, e in header.items():
            if config.get("model_type") == "gpt_neox" and key.endswith(NEOX_BUFFERS):
                continue  # GPT-NeoX's buffers (a bool mask among them): no weights
            begin, end = e["data_offsets"]
            t = torch.frombuffer(bytearray(data[8 + n + begin:8 + n + end]), dtype=HF_DTYPES[e["dtype"]]).reshape(e["shape"])
            if config.get("model_type") == "gpt_neox":
                w[key] = t.to(torch.float64)
                continue
            if config.get("model_type") == "mpt":
                if key != "lm_head.weight":  # MPT's head is wte (tie_word_embeddings checked by the Scorer)
                    w[key] = t.to(torch.float64)
                continue
            key = key[len("transformer."):] if key.startswith("transformer.") else key
            if key.endswith(".attn.bias") or key.endswith(".attn.masked_bias") or key == "lm_head.weight":
                continue
            w[key] = t.to(torch.float64)
    return config, w


def mpt_rules(directory, config):
    """hf_mpt_checkpoint.mpt_logits's rules from an MPT config.json; an MPT that forward does not model is refused."""
    attn = config.get("attn_config", {})
    unmodelled = [k for k, ok in (("no_bias", config.get("no_bias", True) is True),
                                  ("expansion_ratio", config.get("expansion_ratio", 4) == 4),
                                  ("tie_word_embeddings", config.get("tie_word_embeddings", True) is True),
                                  ("logit_scale", config.get("logit_scale") is None),
                                  ("attn_config.qk_ln", not attn.get("qk_ln", False)),
                                  ("attn_config.clip_qkv", attn.get("clip_qkv") is None),
                                  ("attn_config.softmax_scale", attn.get("softmax_scale") is None)) if not ok]
    if unmodelled:
        raise SystemExit("%s/config.json: %s not modelled by hf_mpt_checkpoint.py's MPT" % (directory, ", ".join(unmodelled)))
    return {"alibi": bool(attn.get("alibi", True)), "bias_max": float(attn.get("alibi_bias_max", 8)), "naive": False,
            "eps": float(config.get("layer_norm_epsilon", 1e-5))}


class Scorer:
    def __init__(self, weights=None, hf=None):
        self.neox = None
        self.mpt = None
        if hf is not None:
            config, self.hf = read_hf(hf)
            self.model = None
            if config.get("model_type") == "gpt_neox":
                self.heads = int(config["num_attention_heads"])
                self.max_length = int(config["max_position_embeddings"])
                self.neox = {"rotary_pct": float(config["rotary_pct"]), "rotary_base": float(config["rotary_emb_base"]),
                             "parallel": bool(config["use_parallel_residual"]), "eps": float(config["layer_norm_eps"]),
                             "act": config["hidden_act"], "tied": bool(config["tie_word_embeddings"])}
                return
            if config.get("model_type") == "mpt":
                self.heads = int(config["n_heads"])
                self.max_length = int(config["max_seq_len"])
                self.mpt = mpt_rules(hf, config)
                return
            self.heads = int(config["n_head"])
            self.eps = float(config.get("layer_norm_epsilon", 1e-5))
            self.max_length = int(config["n_positions"])
        else:
            meta, tensors = reference_gpt.read_safetensors(weights)
            self.model = reference_gpt.model_from(meta, tensors).eval()
            self.model64 = reference_gpt.model_from(meta, tensors).eval().double()
            self.max_length = int(meta["contextLength"])

    @torch.no_grad()
    def logits(self, inp, float64=False):
        """[len(inp), vocab] logits of one sequence."""
        if self.neox is not None:
            return hf_neox_checkpoint.neox_logits(self.hf, inp, self.heads, self.neox)
        if self.mpt is not None:
            return hf_mpt_checkpoint.mpt_logits(self.hf, inp, self.heads, self.mpt)
        if self.model is None:
            return hf_gpt2_checkpoint.gpt2_logits(self.hf, inp, self.heads, self.eps)
        m = self.model64 if float64 else self.model
        idx = torch.tensor([inp], dtype=torch.long)
        x = m.wte(idx) + m.wpe(torch.arange(len(inp)))
        for block in m.h:
            x = block(x)
        return F.linear(m.ln_f(x), m.wte.weight)[0]

    @torch.no_grad()
    def generate(self, context, until, max_gen_toks, vocab=256, eot=0):
        """The harness's greedy generate_until on one context: the text before the first stop string."""
        ctx = encode(context)
        ctx = ctx[-(self.max_length - max_gen_toks):]
        out = []
        while len(out) < max_gen_toks:
            nxt = int(self.logits(ctx + out, float64=True)[-1, :vocab].argmax())
            if nxt == eot:
                break
            out.append(nxt)
        s = decode(out)
        for term in until:
            if term:
                s = s.split(term)[0]
        return s

    @torch.no_grad()
    def token_loss(self, path, seq_len):
        """Mean cross-entropy (float64) over every window of seq_len + 1 tokens of a raw uint16 file, and the window count."""
        with open(path, "rb") as f:
            raw = f.read()
        tokens = list(struct.unpack("<%dH" % (len(raw) // 2), raw))
        windows = (len(tokens) - 1) // seq_len
        total = 0.0
        for w in range(windows):
            window = tokens[w * seq_len:w * seq_len + seq_len + 1]
            logits = self.logits(window[:-1], float64=True)
            total += float(F.cross_entropy(logits, torch.tensor(window[1:], dtype=torch.long), reduction="sum"))
        return {"loss": total / (windows * seq_len), "windows": windows}

    @torch.no_grad()
    def loglikelihood(self, context, continuation):
        ctx, cont = encode_pair(context, continuation)
        inp = (ctx + cont)[-(self.max_length + 1):][:-1]
        logits = self.logits(inp)[len(inp) - len(cont):]
        target = torch.tensor(cont, dtype=torch.long)
        logp = F.log_softmax(logits.double(), dim=-1).gather(1, target[:, None])[:, 0]
        greedy = bool((logits.argmax(dim=-1) == target).all())
        return float(logp.sum()), greedy


def stderr(values):
    if len(values) < 2:
        return "N/A"
    mu = sum(values) / len(values)
    return math.sqrt(sum((v - mu) ** 2 for v in values) / (len(values) - 1)) / math.sqrt(len(values))


def argmax(values):
    return max(range(len(values)), key=lambda i: (values[i], -i))


def exact_match(task, prediction, answers):
    """exact_match_hf_evaluate with the task's options, 1 when any answer matches."""
    def norm(x):
        if task == "nq_open":
            x = re.sub(NQ_ARTICLES, "", x)
        x = x.lower()
        return x.translate(str.maketrans("", "", string.punctuation))
    p = norm(prediction)
    return 1.0 if any(norm(a) == p for a in answers) else 0.0


def read_docs(path):
    """(line number, doc) for each non-blank line."""
    with open(path, encoding="utf-8") as f:
        return [(i + 1, json.loads(line)) for i, line in enumerate(f) if line.strip()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights")
    ap.add_argument("--hf")
    ap.add_argument("--task", action="append", default=[])
    ap.add_argument("--loss", action="append", default=[])
    ap.add_argument("--loss-seq-len", type=int)
    ap.add_argument("--shots", type=int, default=0)
    ap.add_argument("--fewshot-file", action="append", default=[])
    ap.add_argument("--max-gen-toks", type=int, default=256)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    scorer = Scorer(weights=a.weights, hf=a.hf)
    pools = dict(s.split("=", 1) for s in a.fewshot_file)
    out = {}
    for spec in a.task:
        task, path = spec.split("=", 1)
        docs = read_docs(path)
        pool_path = pools.get(task)
        pool = read_docs(pool_path) if pool_path else []
        same = pool_path is not None and os.path.samefile(pool_path, path)
        items = []
        for line, doc in docs:
            context = context_of(task, doc, line, pool, a.shots, same)
            query, choices, gold, labels = build(task, doc)
            if task in GENERATIVE:
                resp = scorer.generate(context, UNTIL, a.max_gen_toks)
                filtered = resp.strip()
                items.append({"context": context, "resp": resp, "filtered": filtered, "exact_match": exact_match(task, filtered, labels)})
                continue
            conts = choices if task == "lambada" else [" " + c for c in choices]
            res = [scorer.loglikelihood(context, c) for c in conts]
            lls = [r[0] for r in res]
            item = {"lls": lls, "greedy": [r[1] for r in res]}
            if task == "lambada":
                item["perplexity"] = lls[0]
                item["acc"] = 1.0 if res[0][1] else 0.0
            elif task == "truthfulqa_mc2":
                p = [math.exp(x) for x in lls]
                item["acc"] = sum(pi for pi, l in zip(p, labels) if l == 1) / sum(p)
            else:
                item["acc"] = 1.0 if argmax(lls) == gold else 0.0
                if task not in ("mmlu", "truthfulqa_mc1"):
                    item["acc_norm"] = 1.0 if argmax([l / len(c) for l, c in zip(lls, choices)]) == gold else 0.0
            items.append(item)
        results = {}
        metrics = ["perplexity", "acc"] if task == "lambada" else ["acc"] if task in ("mmlu", "truthfulqa_mc1", "truthfulqa_mc2") \
            else ["exact_match"] if task in GENERATIVE else ["acc", "acc_norm"]
        key = "remove_whitespace" if task in GENERATIVE else "none"
        for metric in metrics:
            values = [it[metric] for it in items]
            if metric == "perplexity":
                results["perplexity,none"] = math.exp(-sum(values) / len(values))
            else:
                results[metric + "," + key] = sum(values) / len(values)
                results[metric + "_stderr," + key] = stderr(values)
        out[task] = {"items": items, "results": results}
    losses = {}
    for spec in a.loss:
        name, path = spec.split("=", 1)
        losses[name] = scorer.token_loss(path, a.loss_seq_len)
    with open(a.out, "w") as f:
        json.dump({"tasks": out, "loss": losses, "torch": torch.__version__}, f)


if __name__ == "__main__":
    main()
