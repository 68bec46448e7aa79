package dev.qlora4j.testkit;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Seeded mutations of a valid file, of the kinds that break parsers: flipped bits, bytes set to
 * JSON punctuation or invalid UTF-8, ranges deleted, duplicated or inserted, truncation, numbers
 * replaced by boundary values (negative, 2^31, 2^63, 1e308), strings replaced by odd ones, and
 * 8-byte little-endian integers overwritten (the safetensors header length is one). The same
 * seed and case always give the same bytes, so a failure is reproduced from those two numbers.
 */
public final class Mutator {
    private static final byte[] BYTES = {0, (byte) 0xFF, '"', '{', '}', '[', ']', ',', ':', '-', '9', '\\', (byte) 0x80,
            (byte) 0xC0, (byte) 0xED, ' ', 'e', '.'};
    private static final String[] NUMBERS = {"-1", "0", "-0", "1.5", "2147483647", "2147483648", "4294967296", "-2147483649",
            "9223372036854775807", "9223372036854775808", "18446744073709551616", "1e308", "1e-320", "-1e308",
            "65536", "3", "1e2"};
    private static final String[] STRINGS = {"", "F64", "U8", "BF16", "I64", "\\ud800", "\\u0000", "nf4", "fp4", "int8",
            "float32", "../../x", "a".repeat(300), "\u00ff\u00fe"};
    private static final long[] LONGS = {0, -1, 1, Long.MAX_VALUE, Long.MIN_VALUE, Integer.MAX_VALUE, 1L << 31, 1L << 32, 7, 9};

    private Mutator() {
    }

    /** One to four mutations of {@code seed}, chosen by {@code caseSeed}; {@code seed} is not changed. */
    public static byte[] mutate(byte[] seed, long caseSeed) {
        SplittableRandom r = new SplittableRandom(caseSeed);
        byte[] out = seed.clone();
        int rounds = 1 + r.nextInt(4);
        for (int i = 0; i < rounds; i++) {
            out = once(out, r);
        }
        return out;
    }

    private static byte[] once(byte[] in, SplittableRandom r) {
        if (in.length == 0) {
            return new byte[]{BYTES[r.nextInt(BYTES.length)]};
        }
        int at = r.nextInt(in.length);
        return switch (r.nextInt(8)) {
            case 0 -> {
                byte[] out = in.clone();
                out[at] ^= (byte) (1 << r.nextInt(8));
                yield out;
            }
            case 1 -> {
                byte[] out = in.clone();
                out[at] = BYTES[r.nextInt(BYTES.length)];
                yield out;
            }
            case 2 -> splice(in, at, Math.min(in.length - at, 1 + r.nextInt(16)), new byte[0]);
            case 3 -> {
                int from = r.nextInt(in.length);
                int len = Math.min(in.length - from, 1 + r.nextInt(64));
                byte[] copy = new byte[len];
                System.arraycopy(in, from, copy, 0, len);
                yield splice(in, at, 0, copy);
            }
            case 4 -> java.util.Arrays.copyOf(in, at);
            case 5 -> replaceToken(in, at, r, true);
            case 6 -> replaceToken(in, at, r, false);
            default -> {
                // An 8-byte little-endian integer, at the start a quarter of the time (a length prefix lives there).
                int pos = r.nextInt(4) == 0 ? 0 : at;
                long v = r.nextBoolean() ? LONGS[r.nextInt(LONGS.length)] : in.length + r.nextInt(17) - 8;
                byte[] out = in.clone();
                for (int i = 0; i < 8 && pos + i < out.length; i++) {
                    out[pos + i] = (byte) (v >>> (8 * i));
                }
                yield out;
            }
        };
    }

    /** Replaces the run of digits (or the quoted string) found at or after {@code at} with a boundary value. */
    private static byte[] replaceToken(byte[] in, int at, SplittableRandom r, boolean number) {
        int start = at;
        while (start < in.length && !(number ? isNumberByte(in[start]) : in[start] == '"')) {
            start++;
        }
        if (start == in.length) {
            return in;
        }
        int end;
        if (number) {
            end = start;
            while (end < in.length && isNumberByte(in[end])) {
                end++;
            }
        } else {
            start++;
            end = start;
            while (end < in.length && in[end] != '"') {
                end += in[end] == '\\' ? 2 : 1;
            }
            end = Math.min(end, in.length);
        }
        String with = number ? NUMBERS[r.nextInt(NUMBERS.length)] : STRINGS[r.nextInt(STRINGS.length)];
        return splice(in, start, end - start, with.getBytes(StandardCharsets.UTF_8));
    }

    private static boolean isNumberByte(byte b) {
        return (b >= '0' && b <= '9') || b == '-';
    }

    private static byte[] splice(byte[] in, int at, int remove, byte[] insert) {
        byte[] out = new byte[in.length - remove + insert.length];
        System.arraycopy(in, 0, out, 0, at);
        System.arraycopy(insert, 0, out, at, insert.length);
        System.arraycopy(in, at + remove, out, at + insert.length, in.length - at - remove);
        return out;
    }
}
