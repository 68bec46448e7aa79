package dev.qlora4j.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * What the {@code post_processor} of tokenizer.json puts around one encoded text: the special
 * token ids before it (Llama's BOS) and after it. Only the single-sequence case is read; pairs of
 * sequences are not a thing a causal language model is fed.
 */
record PostProcessor(int[] prefix, int[] suffix) {
    static final PostProcessor NONE = new PostProcessor(new int[0], new int[0]);

    static PostProcessor from(Node n) {
        if (n.isNull()) {
            return NONE;
        }
        String type = n.type();
        return switch (type) {
            case "Sequence" -> {
                PostProcessor result = NONE;
                for (Node sub : n.get("processors").list()) {
                    PostProcessor p = from(sub);
                    if (p.prefix.length + p.suffix.length > 0) {
                        if (result.prefix.length + result.suffix.length > 0) {
                            throw sub.error("a second processor that adds special tokens; expected at most one in a Sequence");
                        }
                        result = p;
                    }
                }
                yield result;
            }
            // Offsets only: no tokens added.
            case "ByteLevel" -> NONE;
            case "TemplateProcessing" -> template(n);
            // Both wrap one text as cls, text, sep, each given as [token, id].
            case "RobertaProcessing", "BertProcessing" -> new PostProcessor(
                    new int[]{tokenId(n.get("cls"))}, new int[]{tokenId(n.get("sep"))});
            default -> throw n.get("type").error("unsupported post_processor type " + Node.quoteShort(type)
                    + "; expected one of Sequence, ByteLevel, TemplateProcessing, RobertaProcessing, BertProcessing");
        };
    }

    /** The id of a {@code [token, id]} pair. */
    private static int tokenId(Node pair) {
        java.util.List<Node> l = pair.list();
        if (l.size() != 2) {
            throw pair.error("an array of " + l.size() + " elements; expected [token, id]");
        }
        return l.get(1).integer();
    }

    private static PostProcessor template(Node n) {
        List<Integer> prefix = new ArrayList<>();
        List<Integer> suffix = new ArrayList<>();
        boolean seenText = false;
        for (Node item : n.get("single").list()) {
            if (item.has("Sequence")) {
                String which = item.get("Sequence").requireString("id");
                if (!which.equals("A") || seenText) {
                    throw item.error("sequence " + Node.quoteShort(which) + " in the single-text template; expected $A once");
                }
                seenText = true;
            } else if (item.has("SpecialToken")) {
                Node name = item.get("SpecialToken").get("id");
                Node special = n.get("special_tokens").get(name.string());
                if (special.isNull()) {
                    throw name.error("special token " + Node.quoteShort(name.string()) + " is not in special_tokens; expected a defined one");
                }
                for (Node id : special.get("ids").list()) {
                    (seenText ? suffix : prefix).add(id.integer());
                }
            } else {
                throw item.error("found " + Node.describe(item.value()) + "; expected {\"Sequence\": ...} or {\"SpecialToken\": ...}");
            }
        }
        if (!seenText) {
            throw n.get("single").error("no $A in the single-text template; expected the text's place in it");
        }
        return new PostProcessor(prefix.stream().mapToInt(Integer::intValue).toArray(),
                suffix.stream().mapToInt(Integer::intValue).toArray());
    }
}
