"""What the store's packing costs and gives, with other zstd settings (issue 18).

Reads every 50th row of each packed column of a store (`cases.doc`, `cases.triage`,
`case_facts.facts`), unpacks it with the dictionary it was written with, and packs it again
with one reused zstd context per setting: today's dictionaries at levels 3 (as stored), 1 and
-1, and today's content finalised with entropy tables from the same made-up rows
(`pyzstd.finalize_dict`) at levels 3 and 1. Prints bytes a row and microseconds a row.

    pip install pyzstd
    python3 benches/pack_probe.py /tmp/tousu-load-store-1000000/db/tousu.db
"""

import sqlite3
import sys
import time
from pathlib import Path

import pyzstd

DICT = Path(__file__).resolve().parent.parent / "src/store/sqlite/dict"
COLUMNS = {
    "case": ("SELECT doc FROM cases WHERE seq % 50 = 0", "case-1.jsonl", 0x11),
    "triage": ("SELECT triage FROM cases WHERE seq % 50 = 0", "triage-1.jsonl", 0x21),
    "facts": ("SELECT facts FROM case_facts WHERE rowid % 50 = 0", "facts-1.jsonl", 0x31),
}


def main(db_path):
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    for name, (query, file, tag) in COLUMNS.items():
        content = (DICT / file).read_bytes()
        raw = pyzstd.ZstdDict(content, is_raw=True)
        rows = []
        for (cell,) in db.execute(query):
            if isinstance(cell, bytes) and cell and cell[0] == tag:
                rows.append(pyzstd.decompress(cell[1:], zstd_dict=raw))
        samples = [line for line in content.split(b"\n") if line]
        tables = pyzstd.ZstdDict(
            pyzstd.finalize_dict(raw, samples, len(content) + 4096, 3).dict_content
        )
        mean = sum(map(len, rows)) / max(len(rows), 1)
        print(f"{name}: {len(rows)} rows, {mean:.0f} bytes unpacked")
        for label, dictionary, level in [
            ("today's dictionary, level 3 (stored)", raw, 3),
            ("today's dictionary, level 1", raw, 1),
            ("today's dictionary, level -1", raw, -1),
            ("with entropy tables, level 3", tables, 3),
            ("with entropy tables, level 1", tables, 1),
        ]:
            ctx = pyzstd.ZstdCompressor(level, zstd_dict=dictionary)
            start = time.perf_counter()
            size = sum(len(ctx.compress(r, ctx.FLUSH_FRAME)) for r in rows)
            secs = time.perf_counter() - start
            print(
                f"  {label}: {size / len(rows):.1f} B a row, "
                f"{secs / len(rows) * 1e6:.1f} µs a row"
            )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python3 benches/pack_probe.py STORE/tousu.db")
    main(sys.argv[1])
