package dev.qlora4j.autograd.llama;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Every tensor a Hugging Face checkpoint of a {@link LlamaConfig} holds, with its shape and the
 * config arithmetic behind that shape, so that a folder is checked against its config.json before
 * anything is computed: a wrong shape is named with what it should be and why, missing tensors are
 * listed by name.
 */
final class LlamaLayout {
    /** One tensor: its name, shape, and the arithmetic that gives the shape. */
    record Entry(String name, int[] shape, String why) {
    }

    private LlamaLayout() {
    }

    static List<Entry> of(LlamaConfig c) {
        List<Entry> e = new ArrayList<>();
        String d = "hidden " + c.hiddenSize();
        e.add(new Entry("model.embed_tokens.weight", new int[]{c.vocabSize(), c.hiddenSize()}, "vocab " + c.vocabSize() + ", " + d));
        for (int l = 0; l < c.layers(); l++) {
            String p = "model.layers." + l + ".";
            e.add(new Entry(p + "input_layernorm.weight", new int[]{c.hiddenSize()}, d));
            e.add(new Entry(p + "post_attention_layernorm.weight", new int[]{c.hiddenSize()}, d));
            for (String module : LlamaModel.LINEAR_MODULES) {
                String key = LlamaModel.linearKey(l, module);
                int[] shape = c.linearShape(module);
                e.add(new Entry(key, shape, why(c, module)));
                if (c.hasBias(module)) {
                    e.add(new Entry(biasKey(key), new int[]{shape[0]}, "the output size of " + module));
                }
            }
        }
        e.add(new Entry("model.norm.weight", new int[]{c.hiddenSize()}, d));
        if (!c.tiedEmbeddings()) {
            e.add(new Entry("lm_head.weight", new int[]{c.vocabSize(), c.hiddenSize()}, "vocab " + c.vocabSize() + ", " + d));
        }
        return e;
    }

    /** The bias stored beside a linear weight. */
    static String biasKey(String weightKey) {
        return weightKey.substring(0, weightKey.length() - ".weight".length()) + ".bias";
    }

    private static String why(LlamaConfig c, String module) {
        String heads = c.heads() + " heads × head_dim " + c.headDim() + " = " + c.heads() * c.headDim();
        String kv = c.kvHeads() + " key/value heads × head_dim " + c.headDim() + " = " + c.kvHeads() * c.headDim();
        String d = "hidden " + c.hiddenSize();
        String i = "intermediate " + c.intermediateSize();
        return switch (module) {
            case "q_proj" -> heads + ", " + d;
            case "k_proj", "v_proj" -> kv + ", " + d;
            case "o_proj" -> d + ", " + heads;
            case "gate_proj", "up_proj" -> i + ", " + d;
            default -> d + ", " + i;
        };
    }

    /**
     * Checks the checkpoint's tensors against the layout: every wrong shape and every missing tensor,
     * in one message (the first few of each).
     *
     * @throws IllegalArgumentException naming them
     */
    static void check(java.nio.file.Path dir, LlamaConfig c, HfCheckpoint ckpt) {
        List<String> wrong = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (Entry e : of(c)) {
            int[] found = ckpt.shape(e.name());
            if (found == null) {
                missing.add(e.name());
            } else if (!Arrays.equals(found, e.shape())) {
                wrong.add(e.name() + ": expected " + Arrays.toString(e.shape()) + " (" + e.why() + "), found "
                        + Arrays.toString(found));
            }
        }
        if (wrong.isEmpty() && missing.isEmpty()) {
            return;
        }
        StringBuilder sb = new StringBuilder(dir + ": the weights do not match config.json");
        if (!wrong.isEmpty()) {
            sb.append("\n  ").append(String.join("\n  ", wrong.subList(0, Math.min(5, wrong.size()))));
            if (wrong.size() > 5) {
                sb.append("\n  ... and ").append(wrong.size() - 5).append(" more of the wrong shape");
            }
        }
        if (!missing.isEmpty()) {
            sb.append("\n  missing: ").append(String.join(", ", missing.subList(0, Math.min(8, missing.size()))));
            if (missing.size() > 8) {
                sb.append(" and ").append(missing.size() - 8).append(" more");
            }
        }
        throw new IllegalArgumentException(sb.toString());
    }
}
