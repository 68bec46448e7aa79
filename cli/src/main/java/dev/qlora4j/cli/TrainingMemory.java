package dev.qlora4j.cli;

import dev.qlora4j.autograd.llama.BaseFormat;
import dev.qlora4j.autograd.llama.LlamaConfig;
import dev.qlora4j.autograd.llama.LlamaModel;

import java.util.Collection;

/**
 * The memory one QLoRA training step needs, by part, computed from a config: the frozen weights in
 * their format (embeddings and head in BF16, norms in F32, as the engine keeps them), the adapters, their
 * gradients and AdamW's two moments (all F32), and the activations the tape keeps for backward.
 *
 * <p>Activations are what the engine keeps from the forward pass until the step's scope closes: every
 * op's output, not only what backward reads, counted in F32 values from the decoder's forward: per
 * layer and token the two norms' and the residual adds' outputs and o_proj's and down_proj's (6·d),
 * q and k before and after RoPE and v (2·H·hd + 3·G·hd, for H query and G key/value heads), the
 * attention output and its copy back to [T, H·hd] (2·H·hd) with one log-sum-exp per query head (H),
 * the MLP's gate, up and SwiGLU product (3·MLP width; the SwiGLU is fused and keeps no silu(gate)), and the rank for each adapter; per token the
 * embedding and the final norm (2·d); per layer and position, not token, the cos and sin tables of
 * q's and k's RoPE (4·hd). Attention is fused ({@code F.causalAttention}): nothing grows with T². The
 * head and the loss are fused too ({@code LlamaModel.loss}): no logits are kept, and a chunk of them
 * lives only while the loss computes it ({@link LlamaModel#LOSS_CHUNK_BYTES}). With gradient
 * checkpointing a step keeps only each layer's input (d per token and layer) and makes one layer's
 * activations again during backward. Backward then needs about
 * 30–50% more at its peak, for gradients in flight. {@code qlora4j memory --model demo} prints the
 * measured numbers beside these.
 */
record TrainingMemory(long weights, long adapters, long gradients, long optimizer, long activations, long recomputed,
                      long lossWorkspace) {
    /**
     * @param checkpointing whether each decoder layer is checkpointed: then the activations kept are the
     *                      layers' inputs, and one layer's activations are made again during backward
     */
    static TrainingMemory of(LlamaConfig c, BaseFormat format, Collection<String> targets, int rank, int batch, int seq,
                             boolean checkpointing) {
        long weights = c.denseBytes(format);
        for (String m : dev.qlora4j.autograd.llama.LlamaModel.LINEAR_MODULES) {
            int[] s = c.linearShape(m);
            weights += format.weightBytes(s[0], s[1]) * c.layers();
        }
        long lora = 4 * c.loraParameters(targets, rank);
        long tokens = (long) batch * seq;
        long layer = layerBytes(c, targets.size(), rank, batch, seq);
        // Besides the layers: the embedding's output and the final norm's, d per token each.
        long outside = 4 * tokens * 2L * c.hiddenSize();
        // Checkpointed, a layer keeps only its input: d per token and layer.
        long kept = checkpointing ? 4 * tokens * c.layers() * (long) c.hiddenSize() + outside : layer * c.layers() + outside;
        // A chunk's logits and their log-softmax, alive while the loss computes that chunk.
        long loss = 2 * Math.min(4 * tokens * c.vocabSize(), LlamaModel.LOSS_CHUNK_BYTES);
        return new TrainingMemory(weights, lora, lora, 2 * lora, kept, checkpointing ? layer : 0, loss);
    }

    /** What one decoder layer keeps for backward: its forward's outputs and the RoPE tables. */
    static long layerBytes(LlamaConfig c, int adapters, int rank, int batch, int seq) {
        long tokens = (long) batch * seq;
        long queries = (long) c.heads() * c.headDim();
        long keys = (long) c.kvHeads() * c.headDim();
        long perToken = 6L * c.hiddenSize() + 4 * queries + 3 * keys + c.heads() + 3L * c.intermediateSize()
                + (long) adapters * rank;
        return 4 * (tokens * perToken + 4L * seq * c.headDim());
    }

    long total() {
        return weights + adapters + gradients + optimizer + activations + recomputed + lossWorkspace;
    }
}
