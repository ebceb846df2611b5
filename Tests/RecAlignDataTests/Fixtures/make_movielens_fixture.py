#!/usr/bin/env python3
"""Writes Fixtures/movielens: a raw MovieLens-100K-layout corpus (u.data, Latin-1 u.item, u.user).

Two users with 5 interactions each, one with 4 (dropped). Item 2's title has Latin-1 accents, item 3 is
the ml-100k-style "unknown" item, item 4 has its year only in the release date.
"""
import os

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "movielens")


def flags(*on):
    return "|".join("1" if g in on else "0" for g in range(19))


def main():
    os.makedirs(HERE, exist_ok=True)
    data = [(1, 1, 5, 100), (1, 2, 3, 101), (1, 3, 4, 101), (1, 4, 2, 103), (1, 5, 1, 104),
            (2, 5, 5, 200), (2, 4, 5, 201), (2, 3, 5, 202), (2, 2, 5, 203), (2, 1, 5, 204),
            (3, 1, 1, 300), (3, 2, 1, 301), (3, 3, 1, 302), (3, 4, 1, 303)]
    with open(os.path.join(HERE, "u.data"), "w") as f:
        for r in data:
            f.write("\t".join(map(str, r)) + "\n")
    items = [
        f"1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)|{flags(3, 4, 5)}",
        f"2|Café au lait (Métisse) (1993)|01-Jan-1993||http://x|{flags(5)}",
        f"3|unknown||||{flags(0)}",
        f"4|Nameless  Film|01-Jan-1996||http://x|{flags(8, 16)}",
        f"5|Blank (1997)|01-Jan-1997||http://x|{flags()}",
    ]
    with open(os.path.join(HERE, "u.item"), "wb") as f:
        f.write(("\n".join(items) + "\n").encode("latin-1"))
    with open(os.path.join(HERE, "u.user"), "w") as f:
        f.write("1|24|M|technician|85711\n2|53|F|other|94043\n3|23|M|writer|32067\n")


if __name__ == "__main__":
    main()
