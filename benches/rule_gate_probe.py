#!/usr/bin/env python3
"""Would the grade rules do better raising only where the model does not rule their grade
out? Reads the out-of-fold predictions `tousu train --folds 5 --oof-grades FILE` writes (each
graded row: the label, the model's probabilities of 一般 / 严重 / 重大, each rule that fired
with the grade it requires) and judges, on the same predictions, the grade as the profile made
it, raised by every rule, and by only the rules whose grade (or higher) the model gives at
least t (the profile's `[grade] rules_min_model_probability`).
    python3 benches/rule_gate_probe.py /tmp/oof-gov.jsonl
(the file from models/build.sh's `tousu train` line for a profile, with --oof-grades added).
"""
import json
import sys

GRADES = ["一般", "严重", "重大"]
ORDER = {g: i for i, g in enumerate(GRADES)}
GATES = [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5]


def figures(truth, predicted):
    f1s = []
    for c in range(3):
        tp = sum(t == c and p == c for t, p in zip(truth, predicted))
        fp = sum(t != c and p == c for t, p in zip(truth, predicted))
        fn = sum(t == c and p != c for t, p in zip(truth, predicted))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
        if c == 2:
            major = (rec, prec)
    share = sum(p == 2 for p in predicted) / len(predicted)
    return sum(f1s) / 3, major, share


def gated(row, t):
    p = row["probabilities"]
    grade = ORDER[row["model_grade"]]
    for _, rule_grade in row["rules"]:
        g = ORDER[rule_grade]
        if sum(p[g:]) >= t:
            grade = max(grade, g)
    return grade


def main():
    rows = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
    truth = [ORDER[r["grade"]] for r in rows]
    print(f"{len(rows)} graded rows; labels: 重大 share {sum(t == 2 for t in truth) / len(truth):.3f}")
    print("| grade | macro-F1 | 重大 recall / precision | share graded 重大 |")
    print("|---|---|---|---|")
    model = [ORDER[r["model_grade"]] for r in rows]
    shipped = [ORDER[r["predicted_grade"]] for r in rows]
    for name, pred in [("model alone", model), ("as judged (the profile's rules_min_model_probability)", shipped)]:
        f, (rec, prec), share = figures(truth, pred)
        print(f"| {name} | {f:.4f} | {rec:.3f} / {prec:.3f} | {share:.3f} |")
    for t in GATES:
        f, (rec, prec), share = figures(truth, [gated(r, t) for r in rows])
        name = "every rule raises" if t == 0 else f"rules where the model gives their grade ≥ {t}"
        print(f"| {name} | {f:.4f} | {rec:.3f} / {prec:.3f} | {share:.3f} |")
    # What the rules change when every one raises: the rows where one raises the model's grade,
    # by the reason of the highest rule, and how often the label is at that grade or above.
    raises = {}
    for r, t in zip(rows, truth):
        if not r["rules"]:
            continue
        top = max(r["rules"], key=lambda x: ORDER[x[1]])
        if ORDER[top[1]] <= ORDER[r["model_grade"]]:
            continue
        reason = top[0].split(":")[0]
        n, ok = raises.get(reason, (0, 0))
        raises[reason] = (n + 1, ok + (t >= ORDER[top[1]]))
    print("\n| reason of the raising rule | raises | label at the raised grade or above |")
    print("|---|---|---|")
    for reason, (n, ok) in sorted(raises.items(), key=lambda x: -x[1][0]):
        print(f"| {reason} | {n} | {ok} ({ok / n:.2f}) |")


if __name__ == "__main__":
    main()
