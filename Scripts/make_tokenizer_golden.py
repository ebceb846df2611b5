#!/usr/bin/env python3
"""Generate the tokenizer golden fixtures and Unicode tables from Hugging Face `tokenizers`.

Why: RecAlignTokenizer must match BertTokenizerFast token-for-token. Rather than trusting our memory of
which Unicode tables the Rust crate uses, this script probes the real library code point by code point
and writes:

  Sources/RecAlignTokenizer/UnicodeTables.swift   (--tables)  character classes and maps, as the library
                                                              sees them (clean_text removals, whitespace,
                                                              punctuation, CJK, NFD, Mn marks, lowercase)
  Tests/Fixtures/tokenizer/cases.json             (default)   ~300 texts with their ids (special tokens, no
                                                              truncation, no padding)
  Tests/Fixtures/tokenizer/vocab.txt, tokenizer.json, tokenizer_config.json  (copied from the model)

Usage (from the repo root; needs `pip install tokenizers`):
  python3 Scripts/make_tokenizer_golden.py [--model /work/models/all-MiniLM-L6-v2] [--tables] [--no-cases]
"""
import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import unicodedata

import tokenizers
from tokenizers import Tokenizer
from tokenizers import normalizers as N
from tokenizers import pre_tokenizers as P

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(REPO, "Tests", "Fixtures", "tokenizer")
TABLES = os.path.join(REPO, "Sources", "RecAlignTokenizer", "UnicodeTables.swift")

# The CJK ranges hard-coded in Swift (CharacterClasses.swift); the probe asserts the library agrees.
CJK_RANGES = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
              (0x2B740, 0x2B81F), (0x2B920, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)]


def atomic_write(path, data, mode="w"):
    """Write to a temp file in the same folder, then rename into place."""
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    with os.fdopen(fd, mode) as f:
        f.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def code_points():
    for c in range(0x110000):
        if 0xD800 <= c <= 0xDFFF:
            continue
        yield c


def ranges_of(sorted_cps):
    out = []
    for c in sorted_cps:
        if out and out[-1][1] == c - 1:
            out[-1][1] = c
        else:
            out.append([c, c])
    return out


def fmt_ranges(rs):
    return ",".join("%X" % a if a == b else "%X-%X" % (a, b) for a, b in rs)


def fmt_map(m):
    return ",".join("%X:%s" % (c, " ".join("%X" % ord(x) for x in v)) for c, v in sorted(m.items()))


def probe_tables():
    clean = N.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
    cjk = N.BertNormalizer(clean_text=False, handle_chinese_chars=True, strip_accents=False, lowercase=False)
    strip = N.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False)
    lower = N.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=False, lowercase=True)
    nfd = N.NFD()
    pre = P.BertPreTokenizer()

    removed, clean_ws, chinese, pre_ws, punct, mn = [], [], [], [], [], []
    nfd_map, lower_map, strip_out = {}, {}, {}
    for c in code_points():
        ch = chr(c)
        o = clean.normalize_str(ch)
        if o == "":
            removed.append(c)
        elif o == " " and ch != " ":
            clean_ws.append(c)
        else:
            assert o == ch, hex(c)
        o = cjk.normalize_str(ch)
        if o == " " + ch + " ":
            chinese.append(c)
        else:
            assert o == ch, hex(c)
        d = nfd.normalize_str(ch)
        if d != ch and not (0xAC00 <= c <= 0xD7A3):
            nfd_map[c] = d
        s = strip.normalize_str(ch)
        strip_out[c] = s
        if d == ch and s == "":
            mn.append(c)
        o = lower.normalize_str(ch)
        if o != ch:
            lower_map[c] = o
        toks = [t for t, _ in pre.pre_tokenize_str("a" + ch + "b")]
        if toks == ["a", "b"]:
            pre_ws.append(c)
        elif toks == ["a", ch, "b"]:
            punct.append(c)
        else:
            assert toks == ["a" + ch + "b"], (hex(c), toks)

    mn_set = set(mn)
    # Strip = NFD then drop Mn, per code point (Hangul syllables decompose algorithmically).
    for c in code_points():
        d = nfd_map.get(c)
        if d is None:
            d = hangul_nfd(c) if 0xAC00 <= c <= 0xD7A3 else chr(c)
        expect = "".join(x for x in d if ord(x) not in mn_set)
        assert strip_out[c] == expect, (hex(c), strip_out[c], expect)
    for c in range(0xAC00, 0xD7A4):
        assert nfd.normalize_str(chr(c)) == hangul_nfd(c), hex(c)
    want = set()
    for a, b in CJK_RANGES:
        want.update(range(a, b + 1))
    assert want == set(chinese), "CJK ranges differ from the library's"

    # Canonical combining classes (only used to reorder kept non-Mn marks; values are stable across versions).
    ccc = []
    for c in code_points():
        v = unicodedata.combining(chr(c))
        if v:
            if ccc and ccc[-1][1] == c - 1 and ccc[-1][2] == v:
                ccc[-1][1] = c
            else:
                ccc.append([c, c, v])

    lines = [
        "// Generated by Scripts/make_tokenizer_golden.py from tokenizers %s: do not edit." % tokenizers.__version__,
        "// Unicode classes exactly as the Rust `tokenizers` BertNormalizer / BertPreTokenizer see them.",
        "// Ranges: comma-separated hex `A` or `A-B`; maps: `cp:out out ...`; ccc: `A-B:value`.",
        "",
        "enum UnicodeTables {",
        '    /// clean_text removes these (NUL, U+FFFD, and categories Cc/Cf/Co/Cn except tab, LF, CR).',
        '    static let cleanRemoved = "%s"' % fmt_ranges(ranges_of(removed)),
        '    /// clean_text maps these to U+0020 (tab, LF, CR and other White_Space).',
        '    static let cleanWhitespace = "%s"' % fmt_ranges(ranges_of(clean_ws)),
        '    /// BertPreTokenizer splits on (and drops) these.',
        '    static let splitWhitespace = "%s"' % fmt_ranges(ranges_of(pre_ws)),
        '    /// BertPreTokenizer isolates these (ASCII punctuation and Unicode P*).',
        '    static let punctuation = "%s"' % fmt_ranges(ranges_of(punct)),
        '    /// Nonspacing marks (Mn) dropped by strip_accents after NFD.',
        '    static let nonspacingMarks = "%s"' % fmt_ranges(ranges_of(mn)),
        '    /// Canonical decompositions (NFD), except Hangul syllables which are algorithmic.',
        '    static let decompositions = "%s"' % fmt_map(nfd_map),
        '    /// Lowercase mappings (Rust char::to_lowercase), only where they change the scalar.',
        '    static let lowercase = "%s"' % fmt_map(lower_map),
        '    /// Canonical combining classes (non-zero only).',
        '    static let combiningClasses = "%s"' % ",".join("%X-%X:%d" % (a, b, v) for a, b, v in ccc),
        "}",
        "",
    ]
    atomic_write(TABLES, "\n".join(lines))
    print("tables: removed %d, clean ws %d, split ws %d, punct %d, Mn %d, nfd %d, lower %d, ccc ranges %d -> %s"
          % (len(removed), len(clean_ws), len(pre_ws), len(punct), len(mn), len(nfd_map), len(lower_map),
             len(ccc), TABLES))


def hangul_nfd(c):
    s = c - 0xAC00
    l, v, t = 0x1100 + s // 588, 0x1161 + (s % 588) // 28, 0x11A7 + s % 28
    return chr(l) + chr(v) + (chr(t) if t != 0x11A7 else "")


def case_texts():
    t = [
        "", " ", "   ", "\t", "\n", "\r\n", " \t\n\r ", "\u00a0", "\u3000", "\u2003\u2009",
        "Toy Story (1995)", "Jumanji (1995)", "GoldenEye (1995)", "Twelve Monkeys (a.k.a. 12 Monkeys) (1995)",
        "City of Lost Children, The (Cité des enfants perdus, La) (1995)",
        "Shanghai Triad (Yao a yao yao dao waipo qiao) (1995)", "Seven (a.k.a. Se7en) (1995)",
        "Wallace & Gromit: The Best of Aardman Animation (1996)", "Léon: The Professional (1994)",
        "Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)", "Crouching Tiger, Hidden Dragon (Wo hu cang long) (2000)",
        "Spirited Away (Sen to Chihiro no kamikakushi) (2001)", "Pokémon: The First Movie (1998)",
        "Animation|Children's|Comedy", "Adventure|Children's|Fantasy", "Action|Crime|Thriller",
        "Sci-Fi|War", "Film-Noir|Mystery", "(no genres listed)",
        "Title: Heat (1995). Genres: Action, Crime, Thriller.",
        "User watched: Toy Story (1995); Heat (1995); Casino (1995); Sabrina (1995)",
        "The user rated 5/5 stars, then 3.5/5 -- mixed feelings!!!", "It's a wonderful life; isn't it? Don't you think?",
        "rock'n'roll", "o'clock", "l'amour", "’curly’ ‘quotes’ “double”", "«guillemets» „low“",
        "naïve café résumé façade coöperate", "ÀÁÂÃÄÅ àáâãäå ÇçÑñ", "Straße Maße ß", "İstanbul ıi İI",
        "ΑΒΓ αβγ Σίσυφος ΌΣΟΣ", "Ελληνικά", "Москва Россия ЁЛКА ёлка", "Україна ґ Ґ", "Ångström Øresund Æsir",
        "Dvořák Škoda Łódź Kraków", "Tiếng Việt có dấu", "ﬁ ﬂ ﬀ ligatures", "Ⅻ ⅻ ① ⑳ ㈱", "ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３",
        "e\u0301 a\u0300 o\u0308 n\u0303", "\u0301\u0301start", "x\u20dd y\u0489", "a\u0345\u0301",
        "\u1e0b\u0323 \u0071\u0307\u0323", "\u0915\u094d\u0937 \u0915\u093f", "\u0e01\u0e34\u0e19 \u0e19\u0e49\u0e33",
        "中文 测试", "我爱北京天安门", "電影《霸王別姬》(1993)", "千と千尋の神隠し (2001)", "となりのトトロ", "ｶﾀｶﾅ ﾊﾝｶｸ",
        "カタカナ ひらがな 漢字", "日本語のテキスト、句読点。", "한국어 텍스트", "기생충 (2019)", "안녕하세요 세계",
        "ภาษาไทย สวัสดี", "مرحبا بالعالم", "العربية: فيلم (٢٠٢٠)", "עברית שלום", "हिन्दी फ़िल्म", "বাংলা",
        "தமிழ்", "ქართული", "Հայերեն", "አማርኛ", "ᠮᠣᠩᠭᠣᠯ", "ꦗꦮ", "𝐁𝐨𝐥𝐝 𝕯𝖔𝖚𝖇𝖑𝖊", "𠀀𠀁 𪜀 𫝀 𫠠 𬺰 丽",
        "\uf900\ufa10 compat", "\u2e80\u2f00\u31c0", "\u3400\u4dbf \u9fff",
        "emoji 😀😃😄 👍🏽 ❤️ 🎬🍿", "family 👨‍👩‍👧‍👦 flag 🇺🇸 🇯🇵", "🥰🤩🫠", "keycap 1️⃣ #️⃣", "♥♦♣♠ ☺ ★☆",
        "zero\u200bwidth\u200cjoin\u200dmark", "\ufeffBOM at start", "soft\u00adhyphen", "rtl\u200fmark\u200e",
        "word\u2060joiner", "ctrl\x01\x02\x03chars\x7f", "null\x00byte", "bell\x07 esc\x1b[0m", "\x85nel\x85",
        "replacement \ufffd char", "private \ue000\uf8ff use", "\U000f0000 plane15", "nonchar \ufdd0 \uffff",
        "unassigned \u0378 \U0001fb00", "line\u2028sep\u2029para", "tab\tseparated\tvalues", "multi\n\nline\ntext",
        "windows\r\nnewline", "vertical\x0btab\x0cformfeed", "\x1c\x1d\x1e\x1f seps",
        "Supercalifragilisticexpialidocious", "pneumonoultramicroscopicsilicovolcanoconiosis",
        "a" * 99, "b" * 100, "c" * 101, "x" * 250, "é" * 100, "é" * 101, "ab" * 60 + " tail",
        "Antidisestablishmentarianism " * 3, "verylongwordwithoutanyspacesthatgoesonandonandonandonforeverandeverandeverok",
        "0", "42", "3.14159", "1,000,000", "-273.15°C", "1e-9", "+1 (555) 123-4567", "2024-01-31T12:34:56Z",
        "10:30pm", "50%", "$19.99", "€5 £3 ¥100 ₹20 ₿", "#1 @user ~tilde ^caret", "a_b_c snake_case", "CamelCaseWord",
        "1990s 80's '90s", "3rd 21st 2nd 1st", "v1.2.3-beta+build.5",
        "https://www.example.com/path?query=1&x=y#frag", "http://grouplens.org/datasets/movielens/100k/",
        "user@example.com", "C:\\Program Files\\App", "/usr/local/bin", "<html><b>bold</b></html>",
        "{\"json\": [1, 2, 3]}", "f(x) = x^2 + 2*x - 1", "a+b=c", "!!!", "???", "...", "---", "@#$%^&*()",
        "[]{}<>|\\`~", "¿Qué? ¡Olé!", "“Quoted” — dash – en", "…ellipsis…", "§ ¶ † ‡ • ·", "°±²³µ¼½¾",
        "UPPER CASE TEXT", "MiXeD cAsE tExT", "lower case text", "Title Case Text Here",
        "unkonwn (unkonwn) unknown", "[UNK] [CLS] [SEP] [PAD] [MASK]", "a[MASK]b", "[cls] [Sep] [mask]",
        "[[CLS]]", "[CLS[SEP]]", "x[UNK]y", "[MASK", "MASK]", "[ MASK ]",
        "The quick brown fox jumps over the lazy dog.", "Pack my box with five dozen liquor jugs!",
        "I loved this movie, it was great!!! 10/10 would watch again :)", "meh... 2/5 :-( not my cup of tea",
        "Recommended for fans of sci-fi & fantasy (e.g., Star Wars, Star Trek).",
        "The Lord of the Rings: The Fellowship of the Ring (2001)", "Star Wars: Episode IV - A New Hope (1977)",
        "Monty Python and the Holy Grail (1975)", "Dr. Strangelove or: How I Learned to Stop Worrying and Love the Bomb (1964)",
        "Schindler's List (1993)", "One Flew Over the Cuckoo's Nest (1975)", "Se7en", "WALL·E (2008)", "M*A*S*H (1970)",
        "8½ (1963)", "Æon Flux (2005)", "Les Misérables (2012)", "La vita è bella (1997)", "Das Boot (1981)",
        "Y tu mamá también (2001)", "Ran (1985)", "Oldboy (Oldeuboi) (2003)", "Amores perros (2000)",
        "x", "X", "é", "É", "ß", "中", "😀", ".", "'", "-", "_", "#", "##", "##ing", "###", "a##b",
        "  leading and trailing spaces  ", "double  space", "tab\t\ttwice", "\u3000ideographic\u3000space",
        "non\u00a0breaking\u00a0space", "narrow\u202fnbsp", "ogham\u1680space", "mongolian\u180evs",
    ]
    rng = random.Random(12345)
    pools = [
        (0x20, 0x7E), (0xA0, 0x24F), (0x300, 0x36F), (0x370, 0x3FF), (0x400, 0x4FF), (0x590, 0x6FF),
        (0x900, 0x97F), (0xE00, 0xE7F), (0x1100, 0x11FF), (0x1E00, 0x1EFF), (0x2000, 0x206F), (0x2100, 0x22FF),
        (0x3000, 0x30FF), (0x4E00, 0x4EFF), (0xAC00, 0xACFF), (0xF900, 0xFAFF), (0xFE00, 0xFE6F), (0xFF00, 0xFFEF),
        (0x1D400, 0x1D7FF), (0x1F300, 0x1FAFF), (0x20000, 0x200FF), (0x0, 0x1F), (0x7F, 0x9F), (0xE000, 0xE0FF),
    ]
    for _ in range(70):
        n = rng.randint(1, 30)
        chars = []
        for _ in range(n):
            a, b = rng.choice(pools)
            chars.append(chr(rng.randint(a, b)))
        t.append("".join(chars))
    words = ["the", "movie", "film", "Star", "WARS", "(1977)", "café", "naïve", "中文", "😀", "it's", "sci-fi",
             "Comedy|Drama", "unaffable", "embeddings", "recommendation", "transformers", "Ñandú", "x" * 30]
    for _ in range(30):
        t.append(" ".join(rng.choice(words) for _ in range(rng.randint(1, 12))))
    return t


def write_cases(model):
    tok = Tokenizer.from_file(os.path.join(model, "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    cases = []
    for text in case_texts():
        enc = tok.encode(text)
        cases.append({"text": text, "ids": enc.ids, "tokens": enc.tokens})
    doc = {"tokenizers_version": tokenizers.__version__, "model": os.path.basename(os.path.normpath(model)),
           "cases": cases}
    atomic_write(os.path.join(FIXTURES, "cases.json"), json.dumps(doc, ensure_ascii=True, indent=1) + "\n")
    for name in ["vocab.txt", "tokenizer.json", "tokenizer_config.json"]:
        src = os.path.join(model, name)
        if os.path.exists(src):
            dst = os.path.join(FIXTURES, name)
            tmp = dst + ".tmp"
            shutil.copyfile(src, tmp)
            os.replace(tmp, dst)
    print("cases: %d -> %s" % (len(cases), FIXTURES))

    fuzz = [{"text": t, "ids": tok.encode(t).ids} for t in fuzz_texts(tok)]
    atomic_write(os.path.join(FIXTURES, "fuzz.json"),
                 json.dumps({"tokenizers_version": tokenizers.__version__, "cases": fuzz}, ensure_ascii=False,
                            separators=(",", ":")) + "\n")
    print("fuzz: %d -> %s" % (len(fuzz), FIXTURES))


def fuzz_texts(tok):
    """1000 seeded random texts: vocabulary words with random case, accents and separators, and random code
    points from the whole Unicode range (planes 0-3, 14-16), to cover the character tables broadly."""
    rng = random.Random(20240601)
    vocab = sorted(w for w in tok.get_vocab() if not w.startswith("["))
    marks = [chr(c) for c in range(0x300, 0x370)]
    seps = [" ", "  ", "\t", "\n", "-", ".", ",", "'", "(", ")", "|", "/", ":", "\u3000", "\u00a0", ""]
    out = []
    for k in range(1000):
        parts = []
        for _ in range(rng.randint(1, 12)):
            r = rng.random()
            if r < 0.55:
                w = rng.choice(vocab).replace("##", "")
                if rng.random() < 0.3:
                    w = w.upper() if rng.random() < 0.5 else w.capitalize()
                if rng.random() < 0.2:
                    i = rng.randint(0, len(w))
                    w = w[:i] + rng.choice(marks) + w[i:]
                parts.append(w)
            elif r < 0.8:
                plane = rng.choice([0, 0, 0, 0, 1, 2, 3, 14, 15, 16])
                c = rng.randint(plane << 16, (plane << 16) | 0xFFFF)
                if 0xD800 <= c <= 0xDFFF:
                    c = 0x20
                parts.append(chr(c))
            else:
                parts.append(chr(rng.randint(0x20, 0x7E)))
            parts.append(rng.choice(seps))
        out.append("".join(parts))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="/work/models/all-MiniLM-L6-v2")
    ap.add_argument("--tables", action="store_true", help="also regenerate UnicodeTables.swift")
    ap.add_argument("--no-cases", action="store_true", help="skip cases.json and the vocab copies")
    args = ap.parse_args()
    if args.tables:
        probe_tables()
    if not args.no_cases:
        if not os.path.exists(os.path.join(args.model, "tokenizer.json")):
            sys.exit("no tokenizer.json in %s" % args.model)
        write_cases(args.model)


if __name__ == "__main__":
    main()
