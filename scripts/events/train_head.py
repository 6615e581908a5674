#!/usr/bin/env python3
"""Trains the event classifier's head (models/event_head.json) on the labelled event set.

Input: the labelled set (tests/data/events/*.jsonl) and the features the service computes for
each sentence (examples/event_features.rs: the sentence embedding and hashed word n-grams).
Only articles outside the held-out split are used for fitting and for every choice made here
(hyper-parameters, threshold, temperature): those come from 5-fold cross-validation grouped by
article. The held-out split is scored once at the end, for the report, and changes nothing.

Model: per PLOVER type, a one-hidden-layer network over [embedding ; n-grams / sqrt(count)]
with sigmoid outputs (multi-label; a sentence whose every type is below the threshold states no
event), trained with Adam on binary cross-entropy and L2, from a fixed seed. Its probabilities are
calibrated by one temperature fitted on the cross-validated predictions. Modes: per type, a
softmax over the type's modes and "none" on the same inputs, trained on the sentences of that type.

Run through scripts/events/train_head.sh. Needs numpy only.
"""
import argparse
import glob
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "data", "events"))
from validate import TYPES  # noqa: E402

TYPE_NAMES = list(TYPES)
SEED = 20261208


def load_articles(data_dir):
    articles = []
    for path in sorted(glob.glob(os.path.join(data_dir, "*.jsonl"))):
        for line in open(path, encoding="utf-8"):
            if line.strip():
                articles.append(json.loads(line))
    return articles


def load_features(path):
    if getattr(load_features, "cache", None) is not None:
        return load_features.cache
    features = {}
    for line in open(path, encoding="utf-8"):
        f = json.loads(line)
        features[(f["id"], f["sentence"])] = f
    load_features.cache = features
    return features


class Data:
    """Sentences as matrices, in the order of the articles."""

    def __init__(self, articles, features, buckets):
        emb, rows, cues, ys, groups, held, modes, gsr, index = [], [], [], [], [], [], [], [], []
        for a in articles:
            for i, s in enumerate(a["sentences"]):
                f = features[(a["id"], i)]
                emb.append(f["embedding"])
                # The dump hashes into 4096 buckets; fewer buckets are its residues.
                rows.append(sorted({b % buckets for b in f["buckets"]}))
                cues.append([f["cues"][f["cue_types"].index(t)] for t in TYPE_NAMES])
                gsr.append(a.get("origin") == "plover-gsr")
                index.append(i)
                y = np.zeros(len(TYPE_NAMES), dtype=np.float32)
                sentence_modes = {}
                for e in s["events"]:
                    t = TYPE_NAMES.index(e["type"])
                    y[t] = 1
                    if e.get("mode"):
                        sentence_modes[e["type"]] = e["mode"]
                ys.append(y)
                groups.append(a["id"])
                held.append(f["held_out"])
                modes.append(sentence_modes)
        self.embedding = np.asarray(emb, dtype=np.float32)
        self.bow = np.zeros((len(rows), buckets), dtype=np.float32)
        for r, b in enumerate(rows):
            if b:
                self.bow[r, b] = 1.0 / np.sqrt(len(b))
        self.cues = np.asarray(cues, dtype=np.float32)
        self.gsr = np.asarray(gsr)
        self.sentence_index = np.asarray(index)
        self.y = np.asarray(ys)
        self.groups = np.asarray(groups)
        self.held_out = np.asarray(held)
        self.modes = modes

    def inputs(self, bow_weight, cue_weight):
        return np.hstack([self.embedding, bow_weight * self.bow, cue_weight * self.cues])


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


def init(rng, n_in, hidden, n_out):
    layers = []
    sizes = [n_in] + ([hidden] if hidden else []) + [n_out]
    for a, b in zip(sizes, sizes[1:]):
        layers.append([rng.normal(0, np.sqrt(2.0 / a), (a, b)).astype(np.float32), np.zeros(b, np.float32)])
    return layers


def forward(layers, x):
    """Logits, and the hidden activations for the backward pass."""
    acts = [x]
    for i, (w, b) in enumerate(layers):
        z = acts[-1] @ w + b
        if i < len(layers) - 1:
            z = np.maximum(z, 0)
        acts.append(z)
    return acts[-1], acts


def train(x, y, hidden, l2, epochs, rng, softmax=False, lr=3e-3):
    """Full-batch Adam on binary (or softmax) cross-entropy with L2 on the weights."""
    layers = init(rng, x.shape[1], hidden, y.shape[1])
    moments = [[np.zeros_like(p) for p in layer] for layer in layers]
    squares = [[np.zeros_like(p) for p in layer] for layer in layers]
    b1, b2, eps = 0.9, 0.999, 1e-8
    for step in range(1, epochs + 1):
        logits, acts = forward(layers, x)
        if softmax:
            z = logits - logits.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
        else:
            p = sigmoid(logits)
        grad = (p - y) / len(x)
        for i in range(len(layers) - 1, -1, -1):
            w, b = layers[i]
            gw = acts[i].T @ grad + l2 * w
            gb = grad.sum(axis=0)
            if i > 0:
                grad = (grad @ w.T) * (acts[i] > 0)
            for j, g in enumerate((gw, gb)):
                moments[i][j] = b1 * moments[i][j] + (1 - b1) * g
                squares[i][j] = b2 * squares[i][j] + (1 - b2) * g * g
                mh = moments[i][j] / (1 - b1 ** step)
                vh = squares[i][j] / (1 - b2 ** step)
                layers[i][j] -= lr * mh / (np.sqrt(vh) + eps)
    return layers


def predict_types(prob, threshold):
    """A sentence's types: those at or above the threshold."""
    return prob >= threshold


def micro_f1(pred, gold):
    tp = float((pred & (gold > 0)).sum())
    fp = float((pred & (gold == 0)).sum())
    fn = float((~pred & (gold > 0)).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return (2 * p * r / (p + r) if p + r else 0.0), p, r


def folds(groups, k, rng):
    unique = np.array(sorted(set(groups)))
    rng.shuffle(unique)
    fold_of = {g: i % k for i, g in enumerate(unique)}
    return np.array([fold_of[g] for g in groups])


def fit_temperature(logits, y):
    """The temperature minimising the cross-validated log-loss (grid search)."""
    best = (None, 1.0)
    for t in np.linspace(0.3, 3.0, 55):
        p = np.clip(sigmoid(logits / t), 1e-7, 1 - 1e-7)
        loss = -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean()
        if best[0] is None or loss < best[0]:
            best = (loss, float(t))
    return best[1]


def expected_calibration_error(prob, y, bins=10):
    prob, y = prob.ravel(), y.ravel()
    total = 0.0
    for lo in np.linspace(0, 1, bins, endpoint=False):
        m = (prob >= lo) & (prob < lo + 1.0 / bins)
        if m.any():
            total += m.sum() * abs(prob[m].mean() - y[m].mean())
    return total / len(prob)


def rounded(a):
    return [round(float(v), 4) for v in np.ravel(a)]


def export_layers(layers):
    return [{"rows": int(w.shape[0]), "cols": int(w.shape[1]), "weight": rounded(w), "bias": rounded(b)}
            for w, b in layers]


def cross_validate(data, x, train_rows, scored_rows, config, fold):
    """Out-of-fold logits for every training row (models fitted on the other folds)."""
    hidden, l2, epochs, lr = config
    logits = np.zeros_like(data.y)
    for k in range(fold.max() + 1):
        fit = train_rows & (fold != k)
        held = train_rows & (fold == k)
        layers = train(x[fit], data.y[fit], hidden, l2, epochs, np.random.default_rng(SEED + k), lr=lr)
        logits[held] = forward(layers, x[held])[0]
    return logits


def article_types(data, prob, rows, threshold, gate=(0.0, 0.0)):
    """Per article (written articles among `rows`): gold and predicted type sets. An article
    reports events when two of its sentences state one with probability at least `gate[0]`, or
    one sentence does with at least `gate[1]`; then a type is predicted when one of its
    sentences reaches `threshold`."""
    out, best = {}, {}
    for r in np.where(rows)[0]:
        gold, pred = out.setdefault(data.groups[r], (set(), set()))
        gold.update(np.where(data.y[r] > 0)[0].tolist())
        pred.update(np.where(prob[r] >= threshold)[0].tolist())
        best.setdefault(data.groups[r], []).append(float(prob[r].max()))
    for group, (gold, pred) in out.items():
        sentences = sorted(best[group], reverse=True)
        second = sentences[1] if len(sentences) > 1 else 0.0
        if not (second >= gate[0] or sentences[0] >= gate[1]):
            pred.clear()
    return out


def no_event_rate(per_article):
    """Share of articles with no labelled event that get none."""
    empty = [not pred for gold, pred in per_article.values() if not gold]
    return sum(empty) / len(empty) if empty else 1.0


def article_scores(per_article):
    tp = sum(len(g & p) for g, p in per_article.values())
    npred = sum(len(p) for _, p in per_article.values())
    ngold = sum(len(g) for g, _ in per_article.values())
    precision = tp / npred if npred else 0.0
    recall = tp / ngold if ngold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return f1, precision, recall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="tests/data/events")
    ap.add_argument("--features", required=True)
    ap.add_argument("--out", default="models/event_head.json")
    ap.add_argument("--cues", default="models/event_cues.json")
    ap.add_argument("--embedding-model", default="sentence-transformers/all-MiniLM-L6-v2")
    ap.add_argument("--buckets", type=int, default=1024,
                    help="n-gram hash buckets (divides the 4096 of the feature dump)")
    ap.add_argument("--quick", action="store_true", help="one configuration, for trying things")
    args = ap.parse_args()

    if 4096 % args.buckets:
        sys.exit("--buckets must divide 4096")
    articles = load_articles(args.data)
    load_features(args.features)
    missing = [a["id"] for a in articles if (a["id"], 0) not in load_features.cache]
    if missing:
        sys.exit(f"no features for {len(missing)} articles ({missing[0]}…): run examples/event_features again")
    data = Data(articles, load_features(args.features), args.buckets)
    train_rows = ~data.held_out
    # Scored rows: sentences of written articles (PLOVER's gold records code one event a
    # sentence and leave the others uncoded, so they train but are not scored as sentences).
    scored = train_rows & ~data.gsr
    fold = np.zeros(len(data.y), dtype=int)
    fold[train_rows] = folds(data.groups[train_rows], 5, np.random.default_rng(SEED))

    # (hidden units, L2, epochs, learning rate), bow weight, cue weight.
    grid = [((128, 1e-3, 300, 1e-2), 1.0, 1.0), ((128, 3e-4, 300, 1e-2), 1.0, 1.0),
            ((0, 3e-5, 800, 3e-2), 1.0, 1.0)]
    if args.quick:
        grid = grid[:1]
    best = None
    for config, bow_weight, cue_weight in grid:
        x = data.inputs(bow_weight, cue_weight)
        logits = cross_validate(data, x, train_rows, scored, config, fold)
        prob = sigmoid(logits)
        f1, threshold = max((micro_f1(prob[scored] >= t, data.y[scored])[0], t) for t in np.arange(0.1, 0.8, 0.025))
        print(f"{config} bow {bow_weight} cues {cue_weight}: cross-validated micro-F1 {f1:.3f} at {threshold:.3f}", flush=True)
        if best is None or f1 > best[0]:
            best = (f1, config, bow_weight, cue_weight, logits)
    cv_f1, config, bow_weight, cue_weight, cv_logits = best
    temperature = fit_temperature(cv_logits[scored], data.y[scored])
    cv_prob = sigmoid(cv_logits / temperature)
    threshold = max((micro_f1(cv_prob[scored] >= t, data.y[scored])[0], t) for t in np.arange(0.1, 0.8, 0.01))[1]
    # Article level: an article reports events when two sentences state one with probability at
    # least the event threshold (or one sentence with at least the single-sentence threshold);
    # then each type whose best sentence reaches the article threshold is an event. The three
    # maximise the cross-validated article F1 among those that leave at least 95% of the
    # no-event articles without events.
    candidates = []
    for event_threshold in np.arange(0.3, 0.75, 0.05):
        for single_threshold in (0.8, 0.85, 0.9, 0.95):
            for t in np.arange(threshold, 0.6, 0.05):
                per = article_types(data, cv_prob, scored, t, (event_threshold, single_threshold))
                if no_event_rate(per) >= 0.95:
                    candidates.append((article_scores(per)[0], float(t), float(event_threshold), single_threshold))
    _, article_threshold, event_threshold, single_threshold = max(candidates)
    gate = (event_threshold, single_threshold)
    per = article_types(data, cv_prob, scored, article_threshold, gate)
    cv_article = article_scores(per)
    print(f"chosen: {config} bow {bow_weight} cues {cue_weight}; temperature {temperature:.2f}; "
          f"threshold {threshold:.2f}; article threshold {article_threshold:.2f}; event thresholds {event_threshold:.2f} (two sentences) / {single_threshold:.2f} (one) "
          f"(cross-validated article F1 {cv_article[0]:.3f}, P {cv_article[1]:.3f}, R {cv_article[2]:.3f}, "
          f"no-event articles {no_event_rate(per):.3f}); "
          f"cross-validated ECE {expected_calibration_error(cv_prob[scored], data.y[scored]):.4f}")

    x_all = data.inputs(bow_weight, cue_weight)
    hidden, l2, epochs, lr = config
    layers = train(x_all[train_rows], data.y[train_rows], hidden, l2, epochs, np.random.default_rng(SEED), lr=lr)

    # Modes: per type, softmax over its modes and "none", on the training sentences of the type.
    mode_heads = {}
    for t, name in enumerate(TYPE_NAMES):
        if not TYPES[name]:
            continue
        labels = ["none"] + TYPES[name]
        rows = [r for r in np.where(train_rows)[0] if data.y[r, t] > 0]
        if len(rows) < 10:
            continue
        target = np.zeros((len(rows), len(labels)), np.float32)
        for i, r in enumerate(rows):
            target[i, labels.index(data.modes[r].get(name) or "none")] = 1
        used = target.sum(axis=0) > 0
        labels = [label for label, u in zip(labels, used) if u]
        target = target[:, used]
        if len(labels) < 2:
            continue
        head = train(data.embedding[rows], target, 0, 1e-3, 300, np.random.default_rng(SEED + t), softmax=True, lr=1e-2)
        mode_heads[name] = {"labels": labels, "layers": export_layers(head)}

    # The held-out report: computed once, changes nothing above.
    test = data.held_out & ~data.gsr
    prob = sigmoid(forward(layers, x_all)[0] / temperature)
    f1, p, r = micro_f1(prob[test] >= threshold, data.y[test])
    print(f"held-out written sentences: {int(test.sum())}, micro-F1 {f1:.3f} (P {p:.3f} R {r:.3f})")
    per = article_types(data, prob, test, article_threshold, gate)
    a = article_scores(per)
    print(f"held-out written articles: F1 {a[0]:.3f} P {a[1]:.3f} R {a[2]:.3f}, no-event articles {no_event_rate(per):.3f}")
    gsr_test = data.held_out & data.gsr
    top = prob[gsr_test].argmax(axis=1)
    gold = data.y[gsr_test].argmax(axis=1)
    print(f"held-out PLOVER gold records: best type right {int((top == gold).sum())} of {int(gsr_test.sum())}")

    out = {
        "format": 1,
        "embedding_model": args.embedding_model,
        "embedding_dim": int(data.embedding.shape[1]),
        "hash_buckets": args.buckets,
        "bow_weight": bow_weight,
        "cue_weight": cue_weight,
        "cues": json.load(open(args.cues, encoding="utf-8")),
        "types": TYPE_NAMES,
        "layers": export_layers(layers),
        "temperature": round(temperature, 4),
        "threshold": round(float(threshold), 4),
        "article_threshold": round(float(article_threshold), 4),
        "event_threshold": round(float(event_threshold), 4),
        "single_event_threshold": round(float(single_threshold), 4),
        "modes": mode_heads,
        "training": {
            "script": "scripts/events/train_head.sh",
            "data": "tests/data/events (articles outside the held-out split)",
            "sentences": int(train_rows.sum()),
            "articles": len(set(data.groups[train_rows])),
            "hidden": hidden,
            "l2": l2,
            "epochs": epochs,
            "seed": SEED,
            "cross_validated_micro_f1": round(cv_f1, 4),
            "cross_validated_article_f1": round(cv_article[0], 4),
        },
    }
    del out["cues"]["notes"]
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, separators=(",", ":"), ensure_ascii=False)
        f.write("\n")
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes)")


if __name__ == "__main__":
    main()
