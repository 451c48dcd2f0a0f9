#!/usr/bin/python3
"""An independent lm-evaluation-harness-style scorer for EvalCommandTest, on PyTorch.

It reads the simulator's weights (the gpt2 model of simulator/src/test/python/reference_gpt.py) and
the task files itself, builds each task's prompts from the harness's task configs, tokenizes with
the byte tokenizer (UTF-8 bytes, NUL dropped, end-of-text 0), splits context and continuation as
the harness's _encode_pair does, and scores every request alone (no batching, no padding) as its
_loglikelihood_tokens does. It writes --out: per task, each item's log-likelihoods, greedy flags and
metrics, and the task's aggregates keyed as the harness's results.json.
"""
import argparse
import json
import math
import os
import re
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../../simulator/src/test/python"))
import reference_gpt  # noqa: E402

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


def build(task, doc):
    """(context, [continuations], [choices], gold, true-labels or None), from the harness's configs."""
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
    if task == "mmlu":
        c = doc["choices"]
        text = (f"The following are multiple choice questions (with answers) about {doc['subject'].replace('_', ' ')}.\n\n"
                f"{doc['question'].strip()}\nA. {c[0]}\nB. {c[1]}\nC. {c[2]}\nD. {c[3]}\nAnswer:")
        return text, ["A", "B", "C", "D"], doc["answer"], None
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


class Scorer:
    def __init__(self, weights):
        meta, tensors = reference_gpt.read_safetensors(weights)
        self.model = reference_gpt.model_from(meta, tensors).eval()
        self.max_length = int(meta["contextLength"])

    @torch.no_grad()
    def loglikelihood(self, context, continuation):
        ctx, cont = encode_pair(context, continuation)
        inp = (ctx + cont)[-(self.max_length + 1):][:-1]
        m = self.model
        idx = torch.tensor([inp], dtype=torch.long)
        x = m.wte(idx) + m.wpe(torch.arange(len(inp)))
        for block in m.h:
            x = block(x)
        logits = F.linear(m.ln_f(x), m.wte.weight)[0, len(inp) - len(cont):]
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--task", action="append", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    scorer = Scorer(a.weights)
    out = {}
    for spec in a.task:
        task, path = spec.split("=", 1)
        with open(path, encoding="utf-8") as f:
            docs = [json.loads(line) for line in f if line.strip()]
        items = []
        for doc in docs:
            context, choices, gold, labels = build(task, doc)
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
            else ["acc", "acc_norm"]
        for metric in metrics:
            values = [it[metric] for it in items]
            if metric == "perplexity":
                results["perplexity,none"] = math.exp(-sum(values) / len(values))
            else:
                results[metric + ",none"] = sum(values) / len(values)
                results[metric + "_stderr,none"] = stderr(values)
        out[task] = {"items": items, "results": results}
    with open(a.out, "w") as f:
        json.dump({"tasks": out, "torch": torch.__version__}, f)


if __name__ == "__main__":
    main()
