"""ml-100k's RecBole atomic files read as the protocol reads them (PROTOCOL.md sections 1 and 5), shared by the Scripts' peers."""

import os
import sys


def read_atomic(path):
    """Reads a RecBole atomic file: header 'name:type' fields, tab-separated rows; returns (field names, rows)."""
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        names = [h.split(":")[0] for h in header]
        rows = []
        for n, line in enumerate(f, start=2):
            line = line.rstrip("\n")
            if not line:
                continue
            parts = line.split("\t")
            if len(parts) != len(names):
                sys.exit(f"{path}:{n}: expected {len(names)} fields, got {len(parts)}")
            rows.append(parts)
    return names, rows


def collapse(s):
    """Whitespace runs become one space, ends trimmed."""
    return " ".join(s.split())


def item_texts(corpus):
    """{item_id: "{title} ({year}) {genres}"} from the folder's ml-100k.item (PROTOCOL.md section 5)."""
    names, rows = read_atomic(os.path.join(corpus, "ml-100k.item"))
    ix, tx, yx, cx = (names.index(n) for n in ("item_id", "movie_title", "release_year", "class"))
    texts = {}
    for r in rows:
        title, year, genres = collapse(r[tx]), collapse(r[yx]), collapse(r[cx])
        texts[r[ix]] = " ".join(p for p in (title, f"({year})" if year else "", genres) if p)
    return texts
