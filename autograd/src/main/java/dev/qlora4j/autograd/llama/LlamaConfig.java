package dev.qlora4j.autograd.llama;

/**
 * The shape and math of a Llama-architecture decoder, with Hugging Face's config.json names in mind
 * ({@link HfConfig} reads one, refusing what is not implemented).
 *
 * @param hiddenSize       d_model ({@code hidden_size})
 * @param layers           decoder layers
 * @param heads            query heads
 * @param kvHeads          key/value heads (grouped-query attention when fewer than heads)
 * @param intermediateSize width of the SwiGLU MLP
 * @param vocabSize        tokens
 * @param rmsEps           RMSNorm epsilon
 * @param tiedEmbeddings   the output head reuses the embedding table
 * @param headDim          width of one attention head ({@code head_dim}; by default hidden / heads)
 * @param rotary           the rotary embedding: base and rope scaling
 * @param maxPositions     {@code max_position_embeddings}: longer contexts are refused unless allowed
 * @param qkvBias          q_proj, k_proj and v_proj have biases (Llama's {@code attention_bias}, Qwen2)
 * @param outputBias       o_proj has a bias (Llama's {@code attention_bias})
 * @param mlpBias          gate_proj, up_proj and down_proj have biases ({@code mlp_bias})
 * @param slidingWindow    Mistral's attention window; 0 for full causal attention. Contexts longer
 *                         than the window are refused, since the attention here is full.
 */
public record LlamaConfig(int hiddenSize, int layers, int heads, int kvHeads, int intermediateSize, int vocabSize,
                          float rmsEps, boolean tiedEmbeddings, int headDim, dev.qlora4j.autograd.Rotary rotary,
                          int maxPositions, boolean qkvBias, boolean outputBias, boolean mlpBias, int slidingWindow) {
    /** transformers' LlamaConfig default for {@code max_position_embeddings}. */
    public static final int DEFAULT_MAX_POSITIONS = 2048;

    /** Checks every size and their relations, with the arithmetic in the message. */
    public LlamaConfig {
        if (hiddenSize <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || intermediateSize <= 0 || vocabSize <= 0
                || headDim <= 0 || maxPositions <= 0 || slidingWindow < 0) {
            // Not "this": a compact constructor runs before the fields are assigned, so the record would print zeros.
            throw new IllegalArgumentException("Llama config: hidden " + hiddenSize + ", layers " + layers + ", heads " + heads
                    + ", key/value heads " + kvHeads + ", intermediate " + intermediateSize + ", vocab " + vocabSize
                    + ", head_dim " + headDim + ", max positions " + maxPositions + ", sliding window " + slidingWindow
                    + "; expected every size positive (the sliding window 0 or more)");
        }
        if (heads % kvHeads != 0 || headDim % 2 != 0) {
            throw new IllegalArgumentException("Llama config: " + heads + " heads, " + kvHeads + " key/value heads, head_dim "
                    + headDim + "; expected heads a multiple of the key/value heads and an even head dimension");
        }
        if (rotary == null) {
            throw new IllegalArgumentException("Llama config: no rotary embedding given");
        }
        // Every weight must fit a tensor (at most 2^31 - 1 elements); say which does not, with the arithmetic.
        fits("the embedding table, vocab " + vocabSize + " × hidden " + hiddenSize, (long) vocabSize * hiddenSize);
        fits("q_proj, heads " + heads + " × head_dim " + headDim + " × hidden " + hiddenSize, (long) heads * headDim * hiddenSize);
        fits("each MLP weight, intermediate " + intermediateSize + " × hidden " + hiddenSize, (long) intermediateSize * hiddenSize);
    }

    private static void fits(String what, long elements) {
        if (elements > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("Llama config: " + what + " = " + elements
                    + " elements, more than a tensor holds (2^31 - 1); is config.json right?");
        }
    }

    /**
     * A plain Llama: head_dim = hidden / heads, RoPE without scaling, no biases, no sliding window,
     * {@value #DEFAULT_MAX_POSITIONS} positions.
     */
    public LlamaConfig(int hiddenSize, int layers, int heads, int kvHeads, int intermediateSize, int vocabSize,
                       double ropeTheta, float rmsEps, boolean tiedEmbeddings) {
        this(hiddenSize, layers, heads, kvHeads, intermediateSize, vocabSize, rmsEps, tiedEmbeddings,
                plainHeadDim(hiddenSize, heads), dev.qlora4j.autograd.Rotary.plain(ropeTheta), DEFAULT_MAX_POSITIONS,
                false, false, false, 0);
    }

    private static int plainHeadDim(int hiddenSize, int heads) {
        if (heads <= 0 || hiddenSize % heads != 0) {
            throw new IllegalArgumentException("Llama config: hidden " + hiddenSize + " is not a multiple of " + heads
                    + " heads; give head_dim explicitly");
        }
        return hiddenSize / heads;
    }

    /** The base of the rotary frequencies ({@code rope_theta}). */
    public double ropeTheta() {
        return rotary.theta();
    }

    /** Llama 2 7B: d 4096, 32 layers, 32 heads, MLP 11008, vocab 32000, 4096 positions. */
    public static final LlamaConfig LLAMA2_7B = llama2(4096, 32, 32, 32, 11008);
    /** Llama 2 13B: d 5120, 40 layers, 40 heads, MLP 13824, vocab 32000, 4096 positions. */
    public static final LlamaConfig LLAMA2_13B = llama2(5120, 40, 40, 40, 13824);
    /** Llama 2 70B: d 8192, 80 layers, 64 heads with 8 key/value heads, MLP 28672, vocab 32000, 4096 positions. */
    public static final LlamaConfig LLAMA2_70B = llama2(8192, 80, 64, 8, 28672);
    /**
     * Llama 3.1 8B: d 4096, 32 layers, 32 heads with 8 key/value heads, MLP 14336, vocab 128256,
     * rope theta 500000 with llama3 scaling (factor 8, 8192 original positions), 131072 positions.
     */
    public static final LlamaConfig LLAMA31_8B = llama3(4096, 32, 32, 8, 14336, 128, 8, false);
    /** Llama 3.1 70B: d 8192, 80 layers, 64 heads with 8 key/value heads, MLP 28672, as 8B otherwise. */
    public static final LlamaConfig LLAMA31_70B = llama3(8192, 80, 64, 8, 28672, 128, 8, false);
    /** Llama 3.2 1B: d 2048, 16 layers, 32 heads of 64 with 8 key/value heads, MLP 8192, llama3 factor 32, tied. */
    public static final LlamaConfig LLAMA32_1B = llama3(2048, 16, 32, 8, 8192, 64, 32, true);
    /** Llama 3.2 3B: d 3072, 28 layers, 24 heads of 128 with 8 key/value heads, MLP 8192, llama3 factor 32, tied. */
    public static final LlamaConfig LLAMA32_3B = llama3(3072, 28, 24, 8, 8192, 128, 32, true);

    private static LlamaConfig llama2(int hidden, int layers, int heads, int kvHeads, int intermediate) {
        return new LlamaConfig(hidden, layers, heads, kvHeads, intermediate, 32000, 1e-5f, false, hidden / heads,
                dev.qlora4j.autograd.Rotary.plain(10000.0), 4096, false, false, false, 0);
    }

    private static LlamaConfig llama3(int hidden, int layers, int heads, int kvHeads, int intermediate, int headDim,
                                      double ropeFactor, boolean tied) {
        return new LlamaConfig(hidden, layers, heads, kvHeads, intermediate, 128256, 1e-5f, tied, headDim,
                new dev.qlora4j.autograd.Rotary(500000.0, dev.qlora4j.autograd.Rotary.Type.LLAMA3, ropeFactor, 1.0, 4.0, 8192),
                131072, false, false, false, 0);
    }

    /**
     * The shape a Hugging Face config.json describes: {@code path} is the file itself or the model
     * folder holding it.
     */
    public static LlamaConfig read(java.nio.file.Path path) throws java.io.IOException {
        return HfConfig.read(java.nio.file.Files.isDirectory(path) ? path.resolve("config.json") : path);
    }

    /** [out, in] of a linear module (q_proj, ..., down_proj) in every layer. */
    public int[] linearShape(String module) {
        int kv = kvHeads * headDim();
        return switch (module) {
            case "q_proj" -> new int[]{heads * headDim, hiddenSize};
            case "o_proj" -> new int[]{hiddenSize, heads * headDim};
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

    /** Whether the linear module has a bias vector (of its output size). */
    public boolean hasBias(String module) {
        return switch (module) {
            case "q_proj", "k_proj", "v_proj" -> qkvBias;
            case "o_proj" -> outputBias;
            case "gate_proj", "up_proj", "down_proj" -> mlpBias;
            default -> throw new IllegalArgumentException("linear module \"" + module + "\": not a Llama linear module");
        };
    }

    /** Parameters of the embedding table and, unless tied to it, the output head. */
    public long embeddingParameters() {
        long emb = (long) vocabSize * hiddenSize;
        return tiedEmbeddings ? emb : 2 * emb;
    }

    /**
     * Bytes of the weights that are not linear layers, as {@link LlamaModel} holds them under a base in
     * {@code format}: the embedding table and the output head in BF16 (in F32 under an F32 base), as
     * bitsandbytes models keep them 16-bit; norms and biases in F32.
     */
    public long denseBytes(BaseFormat format) {
        long matrices = embeddingParameters();
        return LlamaModel.embeddingType(format).byteSize() * matrices + 4 * (denseParameters() - matrices);
    }

    /** Parameters kept dense: embeddings, the norms, biases, and the output head unless tied. */
    public long denseParameters() {
        long emb = (long) vocabSize * hiddenSize;
        long biases = 0;
        for (String m : LlamaModel.LINEAR_MODULES) {
            biases += hasBias(m) ? linearShape(m)[0] : 0;
        }
        return emb + (tiedEmbeddings ? 0 : emb) + (2L * layers + 1) * hiddenSize + biases * layers;
    }

    /** Every parameter of the model. */
    public long parameters() {
        return linearParameters() + denseParameters();
    }

    /**
     * Checks a LoRA rank against the named modules, as attaching the adapters would: every command that
     * takes a rank (finetune, memory, rank-sweep) refuses the same ranks with the same message.
     *
     * @throws IllegalArgumentException for a rank outside [1, min(in, out)] of some target
     */
    public void checkLoraRank(java.util.Collection<String> targets, int rank) {
        for (String m : targets) {
            int[] s = linearShape(m);
            if (rank < 1 || rank > Math.min(s[0], s[1])) {
                throw new IllegalArgumentException("LoRA rank " + rank + " on " + m + " [" + s[0] + ", " + s[1]
                        + "]: expected 1.." + Math.min(s[0], s[1]) + " (a rank past the smaller side adds nothing)");
            }
        }
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
