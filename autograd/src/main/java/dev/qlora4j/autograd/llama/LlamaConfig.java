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

    public int headDim() {
        return hiddenSize / heads;
    }
}
