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


def splitmix64(seed):
    """The protocol's SplitMix64 (PROTOCOL.md section 3): an endless iterator of UInt64 outputs from state = seed."""
    mask = (1 << 64) - 1
    state = seed & mask
    while True:
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        yield z ^ (z >> 31)


def fisher_yates(n, seed, m=None):
    """[0, n) shuffled by the protocol's partial Fisher-Yates (first m positions; all when m is None)."""
    a, rng = list(range(n)), splitmix64(seed)
    for i in range(n - 1 if m is None else m):
        j = i + next(rng) % (n - i)
        a[i], a[j] = a[j], a[i]
    return a


def cold_rows(n_items, fraction=0.15, seed=42):
    """The cold item rows of PROTOCOL.md section 3 (ml-100k: 252 of 1682, first rows 3, 16, 20, ...)."""
    return sorted(fisher_yates(n_items, seed, round(fraction * n_items))[:round(fraction * n_items)])
