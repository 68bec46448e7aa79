#!/usr/bin/env python3
"""Expected text for byte strings decoded the way Hugging Face's byte-level decoder decodes them.

tokenizers' ByteLevel decoder turns the bytes into text with Rust's String::from_utf8_lossy, which
replaces each maximal subpart of an ill-formed sequence with one U+FFFD (the Unicode standard's
recommended practice, chapter 3, "U+FFFD Substitution of Maximal Subparts"). CPython's
bytes.decode('utf-8', 'replace') implements the same practice, so it is the reference here.

Writes tokenizer/src/test/resources/dev/qlora4j/tokenizer/utf8-lossy-vectors.json:
[{"bytes": [...], "codepoints": [...]}, ...] — hand-picked cases (encoded surrogates, overlongs,
out-of-range four-byte sequences, truncations, stray continuation bytes, the standard's own
example) and seeded random strings drawn mostly from the bytes that make UTF-8 go wrong.
"""
import json
import os
import random

CASES = [
    b"", b"plain ascii", "é€😀".encode("utf-8"),
    b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xed\x9f\xbf", b"\xed\xa0\x80\xed\xb0\x80",  # surrogates, and U+D7FF
    b"\xc0\x80", b"\xc1\xbf", b"\xe0\x80\xaf", b"\xe0\x9f\xbf", b"\xf0\x80\x80\xaf", b"\xf0\x8f\xbf\xbf",  # overlongs
    b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80", b"\xff", b"\xfe\xff",  # past U+10FFFF, never-valid bytes
    b"\xe2\x82", b"\xf0\x9f\x98", b"\xc3", b"a\xe2\x82b", b"\xe2\x82\xe2\x82\xac",  # truncated
    b"\x80", b"\xbf\x80\xbf", b"a\x80b",  # stray continuation bytes
    b"a\xf1\x80\x80\xe1\x80\xc2b\x80c\x80\xbfd",  # the Unicode standard's example
]
ALPHABET = [0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xE1, 0xED, 0xEF,
            0xF0, 0xF1, 0xF4, 0xF5, 0xFF]


def main():
    rng = random.Random(20261207)
    strings = list(CASES)
    for _ in range(400):
        strings.append(bytes(rng.choice(ALPHABET) for _ in range(rng.randint(1, 10))))
    vectors = [{"bytes": list(b), "codepoints": [ord(c) for c in b.decode("utf-8", "replace")]} for b in strings]
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "..", "..", "tokenizer", "src", "test", "resources", "dev", "qlora4j", "tokenizer",
                       "utf8-lossy-vectors.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump(vectors, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(vectors)} vectors to {os.path.normpath(out)}")


if __name__ == "__main__":
    main()
