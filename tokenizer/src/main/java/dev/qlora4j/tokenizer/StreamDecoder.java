package dev.qlora4j.tokenizer;

import java.util.Arrays;

/**
 * Decodes ids that arrive one at a time (generation) into text pieces whose concatenation is the
 * text of all of them. A piece is released only when it is complete: while the decoded text ends
 * in U+FFFD, the last token ended inside a multi-byte UTF-8 character and the next token completes
 * it. Each step decodes the new ids together with the ones before them, because decoders are
 * context-dependent (SentencePiece drops the leading space of the first token only).
 *
 * <p>Not thread-safe: one per generated sequence.
 */
public final class StreamDecoder {
    private final Tokenizer tokenizer;
    private final boolean skipSpecial;
    /** The ids since the last released piece, plus the ones before them that give context. */
    private int[] ids = new int[0];
    /** How many leading ids of {@link #ids} are context only, already released. */
    private int contextLength;
    /** The text of the context ids alone. */
    private String contextText = "";

    StreamDecoder(Tokenizer tokenizer, boolean skipSpecial) {
        this.tokenizer = tokenizer;
        this.skipSpecial = skipSpecial;
    }

    /**
     * Takes the next id and returns the text it completes: empty when it ends inside a character
     * (or adds no text), otherwise everything not yet returned.
     *
     * @throws IllegalArgumentException when the id is not a token id
     */
    public String next(int id) {
        tokenizer.tokenOf(id);
        ids = Arrays.copyOf(ids, ids.length + 1);
        ids[ids.length - 1] = id;
        String text = tokenizer.decode(ids, skipSpecial);
        if (text.length() <= contextText.length() || text.endsWith("\uFFFD")) {
            return "";
        }
        if (!text.startsWith(contextText)) {
            throw new IllegalStateException("StreamDecoder: decoding id " + id + " changed the text already returned ("
                    + Node.quoteShort(contextText) + " became " + Node.quoteShort(text) + "); expected a decoder that only appends");
        }
        String fresh = text.substring(contextText.length());
        // The released ids become the context of the next step.
        ids = Arrays.copyOfRange(ids, contextLength, ids.length);
        contextLength = ids.length;
        contextText = tokenizer.decode(ids, skipSpecial);
        return fresh;
    }

    /**
     * The text held back at the end of generation (an incomplete character shows as U+FFFD);
     * empty when everything has been returned. The decoder starts afresh afterwards.
     */
    public String finish() {
        String text = tokenizer.decode(ids, skipSpecial);
        String rest = text.length() > contextText.length() && text.startsWith(contextText)
                ? text.substring(contextText.length()) : "";
        ids = new int[0];
        contextLength = 0;
        contextText = "";
        return rest;
    }
}
