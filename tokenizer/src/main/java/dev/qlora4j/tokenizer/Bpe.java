package dev.qlora4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * The BPE model of tokenizer.json: a vocabulary and a ranked list of merges. A word starts as one
 * symbol per character; the adjacent pair whose merge has the lowest rank (earliest in the list)
 * is merged, leftmost first among equals, until no adjacent pair has a merge.
 */
final class Bpe {
    /** What merging a pair gives: its rank (priority, lower first) and the id of the merged token. */
    private record Merge(int rank, int id) {
    }

    private final Map<String, Integer> vocab;
    private final String[] tokens;
    /** Keyed by {@code leftId << 32 | rightId}. */
    private final Map<Long, Merge> merges;
    private final int unkId;
    private final boolean fuseUnk;
    private final boolean byteFallback;
    private final boolean ignoreMerges;
    /** The ids of {@code <0x00>..<0xFF>} when byte fallback is on. */
    private final int[] byteIds;

    private Bpe(Map<String, Integer> vocab, String[] tokens, Map<Long, Merge> merges, int unkId, boolean fuseUnk,
                boolean byteFallback, boolean ignoreMerges, int[] byteIds) {
        this.vocab = vocab;
        this.tokens = tokens;
        this.merges = merges;
        this.unkId = unkId;
        this.fuseUnk = fuseUnk;
        this.byteFallback = byteFallback;
        this.ignoreMerges = ignoreMerges;
        this.byteIds = byteIds;
    }

    static Bpe from(Node model) {
        String type = model.has("type") ? model.type() : "BPE";
        if (!type.equals("BPE")) {
            throw model.get("type").error("unsupported model type " + Node.quoteShort(type) + "; expected \"BPE\"");
        }
        for (String affix : List.of("continuing_subword_prefix", "end_of_word_suffix")) {
            String v = model.string(affix, "");
            if (!v.isEmpty()) {
                throw model.get(affix).error(Node.quoteShort(v) + " is not supported; expected null or \"\"");
            }
        }
        Node vocabNode = model.get("vocab");
        Map<String, Integer> vocab = new HashMap<>();
        int maxId = -1;
        for (Map.Entry<?, ?> e : vocabNode.object().entrySet()) {
            Node idNode = new Node(vocabNode.file(), vocabNode.where() + "." + Node.quoteShort((String) e.getKey()), e.getValue());
            int id = idNode.integer();
            if (id < 0) {
                throw idNode.error("negative id " + id + "; expected an id >= 0");
            }
            vocab.put((String) e.getKey(), id);
            maxId = Math.max(maxId, id);
        }
        // Ids index an array: a hostile id like 2^31 - 1 must not allocate gigabytes. Real vocabularies
        // number their tokens densely from 0, so ids far past the count of entries are refused.
        long idLimit = 4L * vocab.size() + 256;
        if (maxId >= idLimit) {
            throw vocabNode.error("the largest id is " + maxId + " among " + vocab.size() + " tokens; expected ids below "
                    + idLimit + " (tokens numbered from 0 with few gaps)");
        }
        String[] tokens = new String[maxId + 1];
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            int id = e.getValue();
            if (tokens[id] != null) {
                throw vocabNode.error("tokens " + Node.quoteShort(tokens[id]) + " and " + Node.quoteShort(e.getKey())
                        + " both have id " + id + "; expected one token per id");
            }
            tokens[id] = e.getKey();
        }

        Map<Long, Merge> merges = new HashMap<>();
        List<Node> list = model.get("merges").isNull() ? List.of() : model.get("merges").list();
        for (int rank = 0; rank < list.size(); rank++) {
            Node m = list.get(rank);
            String left;
            String right;
            if (m.value() instanceof String s) {
                // The older form "a b": tokens of these vocabularies never hold a plain space.
                String[] parts = s.split(" ", -1);
                if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
                    throw m.error("merge " + Node.quoteShort(s) + " is not two tokens separated by one space; expected \"left right\"");
                }
                left = parts[0];
                right = parts[1];
            } else if (m.value() instanceof List<?> pair && pair.size() == 2) {
                left = m.list().get(0).string();
                right = m.list().get(1).string();
            } else {
                throw m.error("found " + Node.describe(m.value()) + "; expected a merge as \"left right\" or [\"left\", \"right\"]");
            }
            Integer a = vocab.get(left);
            Integer b = vocab.get(right);
            Integer ab = vocab.get(left + right);
            for (Object[] check : new Object[][]{{left, a}, {right, b}, {left + right, ab}}) {
                if (check[1] == null) {
                    throw m.error("merge " + Node.quoteShort(left) + " + " + Node.quoteShort(right) + " names token "
                            + Node.quoteShort((String) check[0]) + ", which is not in model.vocab; expected every merge's parts and result in the vocabulary");
                }
            }
            // A pair listed twice keeps its first (higher-priority) rank, as in Hugging Face.
            merges.putIfAbsent(key(a, b), new Merge(rank, ab));
        }

        String unk = model.string("unk_token", null);
        int unkId = -1;
        if (unk != null) {
            Integer id = vocab.get(unk);
            if (id == null) {
                throw model.get("unk_token").error("unk_token " + Node.quoteShort(unk) + " is not in model.vocab; expected a vocabulary token");
            }
            unkId = id;
        }
        boolean byteFallback = model.bool("byte_fallback", false);
        int[] byteIds = null;
        if (byteFallback) {
            byteIds = new int[256];
            for (int b = 0; b < 256; b++) {
                Integer id = vocab.get(byteToken(b));
                byteIds[b] = id == null ? -1 : id;
            }
        }
        return new Bpe(vocab, tokens, merges, unkId, model.bool("fuse_unk", false), byteFallback,
                model.bool("ignore_merges", false), byteIds);
    }

    static String byteToken(int b) {
        return String.format("<0x%02X>", b);
    }

    private static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    /** One past the largest id in the vocabulary. */
    int size() {
        return tokens.length;
    }

    Integer idOf(String token) {
        return vocab.get(token);
    }

    /** The token with this id, or null when no vocabulary entry has it. */
    String tokenOf(int id) {
        return id >= 0 && id < tokens.length ? tokens[id] : null;
    }

    /** Appends the ids of one pre-tokenized word. */
    void encode(String word, IntList out) {
        if (ignoreMerges) {
            Integer whole = vocab.get(word);
            if (whole != null) {
                out.add(whole);
                return;
            }
        }
        // The word as a doubly linked list of symbols, so that a merge is O(1).
        int n = word.length();
        int[] ids = new int[Math.max(4, n * 4)];
        int count = 0;
        for (int i = 0; i < n; ) {
            int cp = word.codePointAt(i);
            String ch = word.substring(i, i + Character.charCount(cp));
            i += ch.length();
            Integer id = vocab.get(ch);
            if (id != null) {
                ids[count++] = id;
                continue;
            }
            int[] bytes = byteFallback ? fallbackIds(ch) : null;
            if (bytes != null) {
                for (int b : bytes) {
                    ids[count++] = b;
                }
            } else if (unkId >= 0) {
                if (!(fuseUnk && count > 0 && ids[count - 1] == unkId)) {
                    ids[count++] = unkId;
                }
            } else {
                throw new IllegalArgumentException("encode: character U+" + Integer.toHexString(cp).toUpperCase()
                        + " (" + ch + ") has no token in the vocabulary, and the tokenizer has "
                        + (byteFallback ? "no <0xNN> token for one of its bytes" : "no byte_fallback") + " and no unk_token; expected text the vocabulary covers");
            }
        }
        int[] next = new int[count];
        int[] prev = new int[count];
        for (int i = 0; i < count; i++) {
            next[i] = i + 1 < count ? i + 1 : -1;
            prev[i] = i - 1;
        }
        // Candidates ordered by rank, then position; stale ones (a side already merged away or
        // changed) are recognised on removal by comparing the ids they were made for.
        PriorityQueue<long[]> queue = new PriorityQueue<>((x, y) -> x[0] != y[0] ? Long.compare(x[0], y[0]) : Long.compare(x[1], y[1]));
        for (int i = 0; i + 1 < count; i++) {
            offer(queue, ids, i, i + 1);
        }
        while (!queue.isEmpty()) {
            long[] c = queue.poll();
            int left = (int) c[1];
            int right = next[left];
            if (right < 0 || ids[left] != (int) c[2] || ids[right] != (int) c[3]) {
                continue;
            }
            ids[left] = merges.get(key(ids[left], ids[right])).id;
            ids[right] = -1;
            next[left] = next[right];
            if (next[left] >= 0) {
                prev[next[left]] = left;
            }
            if (prev[left] >= 0) {
                offer(queue, ids, prev[left], left);
            }
            if (next[left] >= 0) {
                offer(queue, ids, left, next[left]);
            }
        }
        for (int i = count == 0 ? -1 : 0; i >= 0; i = next[i]) {
            out.add(ids[i]);
        }
    }

    private void offer(PriorityQueue<long[]> queue, int[] ids, int left, int right) {
        Merge m = merges.get(key(ids[left], ids[right]));
        if (m != null) {
            queue.add(new long[]{m.rank, left, ids[left], ids[right]});
        }
    }

    /** The ids of the {@code <0xNN>} tokens of a character's UTF-8 bytes, or null if one is missing. */
    private int[] fallbackIds(String ch) {
        byte[] bytes = ch.getBytes(StandardCharsets.UTF_8);
        int[] out = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = byteIds[bytes[i] & 0xFF];
            if (out[i] < 0) {
                return null;
            }
        }
        return out;
    }
}
