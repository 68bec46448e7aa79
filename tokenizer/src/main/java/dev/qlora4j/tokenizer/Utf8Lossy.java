package dev.qlora4j.tokenizer;

/**
 * Bytes to text the way Hugging Face's byte-level decoder does it (Rust's
 * {@code String::from_utf8_lossy}): each maximal subpart of an ill-formed sequence becomes one
 * U+FFFD, as the Unicode standard recommends and the WHATWG Encoding Standard specifies. So an
 * encoded surrogate {@code ED A0 80} gives three U+FFFD (ED may not be followed by A0..BF), an
 * overlong {@code C0 80} two, and a truncated {@code E2 82} at the end one. Java's own decoder
 * groups some of these differently.
 */
final class Utf8Lossy {
    private static final char REPLACEMENT = '\uFFFD';

    private Utf8Lossy() {
    }

    static String decode(byte[] bytes) {
        StringBuilder out = new StringBuilder(bytes.length);
        int needed = 0;
        int seen = 0;
        int codePoint = 0;
        int lower = 0x80;
        int upper = 0xBF;
        for (int i = 0; i < bytes.length; i++) {
            int b = bytes[i] & 0xFF;
            if (needed == 0) {
                if (b <= 0x7F) {
                    out.append((char) b);
                } else if (b >= 0xC2 && b <= 0xDF) {
                    needed = 1;
                    codePoint = b & 0x1F;
                } else if (b >= 0xE0 && b <= 0xEF) {
                    // E0 must continue above the overlongs, ED below the surrogates.
                    lower = b == 0xE0 ? 0xA0 : 0x80;
                    upper = b == 0xED ? 0x9F : 0xBF;
                    needed = 2;
                    codePoint = b & 0x0F;
                } else if (b >= 0xF0 && b <= 0xF4) {
                    // F0 must continue above the overlongs, F4 at most to U+10FFFF.
                    lower = b == 0xF0 ? 0x90 : 0x80;
                    upper = b == 0xF4 ? 0x8F : 0xBF;
                    needed = 3;
                    codePoint = b & 0x07;
                } else {
                    out.append(REPLACEMENT);
                }
                continue;
            }
            if (b < lower || b > upper) {
                // The sequence so far is a maximal subpart: one replacement, then this byte starts afresh.
                out.append(REPLACEMENT);
                needed = 0;
                seen = 0;
                codePoint = 0;
                lower = 0x80;
                upper = 0xBF;
                i--;
                continue;
            }
            lower = 0x80;
            upper = 0xBF;
            codePoint = (codePoint << 6) | (b & 0x3F);
            if (++seen == needed) {
                out.appendCodePoint(codePoint);
                needed = 0;
                seen = 0;
                codePoint = 0;
            }
        }
        if (needed != 0) {
            out.append(REPLACEMENT);
        }
        return out.toString();
    }
}
