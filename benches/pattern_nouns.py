#!/usr/bin/env python3
"""One grade pattern measured one alternative at a time: the bar the profiles' rules are held to
(the text at the rule's grade or above on at least 60 % of the graded texts it fires on, at
least 3; `tousu eval --rules` prints it per phrase and pattern), applied to each alternative of
the pattern's last group, as if the pattern named only that one. Says which words of a broad
pattern to narrow away. It matches the split's texts as they are, without the rules' masking and
negation handling, so its counts can differ a little from `tousu eval --rules`.
    python3 benches/pattern_nouns.py data/profiles/gov.toml group 0 /tmp/tousu-splits/gov/train.jsonl
(REASON and INDEX pick the pattern in the profile's [extra_patterns]; the split as models/build.sh
makes it.) Python's `re` reads these patterns as Rust's `regex` does (no look-around in them).
"""
import json
import re
import sys
import tomllib

# The guideline's reasons and the grade each implies (urgency/GUIDELINE.md; src/domain/reason.rs).
GRADE_OF = {
    "group": "重大", "safety": "重大", "security": "重大", "external": "重大", "big_loss": "重大",
    "repeat": "严重", "money": "严重", "strong": "严重", "outage": "严重", "violation": "严重",
}
ORDER = {"一般": 0, "严重": 1, "重大": 2}


def main():
    profile, reason, index, split = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    with open(profile, "rb") as f:
        pattern = tomllib.load(f)["extra_patterns"][reason][index]
    # The last parenthesised group of plain alternatives: the nouns.
    groups = list(re.finditer(r"\(([^()?]+)\)", pattern))
    last = groups[-1]
    graded = [r for r in map(json.loads, open(split, encoding="utf-8")) if r.get("grade")]
    floor = ORDER[GRADE_OF[reason]]

    def held(p):
        hits = [r for r in graded if p.search(r["text"])]
        return sum(ORDER[r["grade"]] >= floor for r in hits), len(hits)

    ok, n = held(re.compile(pattern))
    print(f"{pattern}\n  whole: {ok} of {n} at {GRADE_OF[reason]} or above ({len(graded)} graded)")
    for word in last.group(1).split("|"):
        p = re.compile(pattern[: last.start()] + "(" + word + ")" + pattern[last.end():])
        ok, n = held(p)
        bar = "" if n < 3 else ("  under the bar" if ok < 0.6 * n else "")
        print(f"  {word}: {ok} of {n}{bar}")


if __name__ == "__main__":
    main()
