package dev.qlora4j.autograd.llama;

/**
 * The shape of a Llama-architecture decoder, with Hugging Face's config.json names in mind.
 *
 * @param hiddenSize       d_model
 * @param layers           decoder layers
 * @param heads            query heads
 * @param kvHeads          key/value heads (grouped-query attention when fewer than heads)
 * @param intermediateSize width of the SwiGLU MLP
 * @param vocabSize        tokens
 * @param ropeTheta        base of the rotary frequencies
 * @param rmsEps           RMSNorm epsilon
 * @param tiedEmbeddings   the output head reuses the embedding table
 */
public record LlamaConfig(int hiddenSize, int layers, int heads, int kvHeads, int intermediateSize, int vocabSize,
                          double ropeTheta, float rmsEps, boolean tiedEmbeddings) {
    public LlamaConfig {
        if (hiddenSize <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || intermediateSize <= 0 || vocabSize <= 0) {
            throw new IllegalArgumentException("Llama config " + this + ": every size must be positive");
        }
        if (hiddenSize % heads != 0 || heads % kvHeads != 0 || (hiddenSize / heads) % 2 != 0) {
            throw new IllegalArgumentException("Llama config " + this + ": expected hidden size a multiple of the heads, "
                    + "heads a multiple of the key/value heads, and an even head dimension");
        }
    }

    /** Width of one attention head, {@code hiddenSize / heads}; even, as the rotary embedding needs. */
    public int headDim() {
        return hiddenSize / heads;
    }

    /** Llama 2 7B: d 4096, 32 layers, 32 heads, MLP 11008, vocab 32000. */
    public static final LlamaConfig LLAMA2_7B = new LlamaConfig(4096, 32, 32, 32, 11008, 32000, 10000.0, 1e-5f, false);
    /** Llama 2 13B: d 5120, 40 layers, 40 heads, MLP 13824, vocab 32000. */
    public static final LlamaConfig LLAMA2_13B = new LlamaConfig(5120, 40, 40, 40, 13824, 32000, 10000.0, 1e-5f, false);
    /** Llama 2 70B: d 8192, 80 layers, 64 heads with 8 key/value heads, MLP 28672, vocab 32000. */
    public static final LlamaConfig LLAMA2_70B = new LlamaConfig(8192, 80, 64, 8, 28672, 32000, 10000.0, 1e-5f, false);

    /**
     * The shape a Hugging Face config.json describes: {@code path} is the file itself or the model
     * folder holding it.
     */
    public static LlamaConfig read(java.nio.file.Path path) throws java.io.IOException {
        return java.nio.file.Files.isDirectory(path) ? HfCheckpoint.config(path) : HfCheckpoint.configFile(path);
    }

    /** [out, in] of a linear module (q_proj, ..., down_proj) in every layer. */
    public int[] linearShape(String module) {
        int kv = kvHeads * headDim();
        return switch (module) {
            case "q_proj", "o_proj" -> new int[]{hiddenSize, hiddenSize};
            case "k_proj", "v_proj" -> new int[]{kv, hiddenSize};
            case "gate_proj", "up_proj" -> new int[]{intermediateSize, hiddenSize};
            case "down_proj" -> new int[]{hiddenSize, intermediateSize};
            default -> throw new IllegalArgumentException("linear module \"" + module
                    + "\": expected q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj or down_proj");
        };
    }

    /** Parameters in the linear layers of all decoder layers (what quantization shrinks). */
    public long linearParameters() {
        long perLayer = 0;
        for (String m : LlamaModel.LINEAR_MODULES) {
            int[] s = linearShape(m);
            perLayer += (long) s[0] * s[1];
        }
        return perLayer * layers;
    }

    /** Parameters kept dense: embeddings, the norms, and the output head unless tied. */
    public long denseParameters() {
        long emb = (long) vocabSize * hiddenSize;
        return emb + (tiedEmbeddings ? 0 : emb) + (2L * layers + 1) * hiddenSize;
    }

    /** Every parameter of the model. */
    public long parameters() {
        return linearParameters() + denseParameters();
    }

    /** Parameters of LoRA adapters of rank r on the named modules of every layer: r·(in + out) each. */
    public long loraParameters(java.util.Collection<String> targets, int rank) {
        long n = 0;
        for (String m : targets) {
            int[] s = linearShape(m);
            n += (long) rank * (s[0] + s[1]);
        }
        return n * layers;
    }
}
