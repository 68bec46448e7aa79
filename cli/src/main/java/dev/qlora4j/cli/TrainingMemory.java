package dev.qlora4j.cli;

import dev.qlora4j.autograd.llama.BaseFormat;
import dev.qlora4j.autograd.llama.LlamaConfig;

import java.util.Collection;

/**
 * The memory one QLoRA training step needs, by part, computed from a config: the frozen weights in
 * their format (embeddings, norms and head in F32 as the engine keeps them), the adapters, their
 * gradients and AdamW's two moments (all F32), and the activations the tape keeps for backward.
 *
 * <p>Activations are what the engine keeps from the forward pass until the step's scope closes: every
 * op's output, not only what backward reads. Counted in F32 values, measured on the engine's forward
 * pass by varying one dimension at a time (d, the MLP width, the rank, the vocabulary, the sequence):
 * per decoder layer and token about 13.6·d + 4·MLP width + the rank for each adapter; per layer and
 * sequence 4·heads·T² (scores, masked scores, probabilities, and the softmax's saved copy); at the top
 * 2·vocab per token (logits and log-softmax). Backward then needs about 30–50% more at its peak, for
 * gradients in flight. {@code qlora4j memory --model demo} prints the measured numbers beside these.
 */
record TrainingMemory(long weights, long adapters, long gradients, long optimizer, long activations) {
    static TrainingMemory of(LlamaConfig c, BaseFormat format, Collection<String> targets, int rank, int batch, int seq) {
        long weights = 4 * c.denseParameters();
        for (String m : dev.qlora4j.autograd.llama.LlamaModel.LINEAR_MODULES) {
            int[] s = c.linearShape(m);
            weights += format.weightBytes(s[0], s[1]) * c.layers();
        }
        long lora = 4 * c.loraParameters(targets, rank);
        return new TrainingMemory(weights, lora, lora, 2 * lora, activationBytes(c, targets.size(), rank, batch, seq));
    }

    static long activationBytes(LlamaConfig c, int adapters, int rank, int batch, int seq) {
        long tokens = (long) batch * seq;
        long perToken = 68L * c.hiddenSize() / 5 + 4L * c.intermediateSize() + (long) adapters * rank;
        long perSequence = 4L * c.heads() * seq * seq;
        long layer = tokens * perToken + batch * perSequence;
        return 4 * (layer * c.layers() + 2 * tokens * c.vocabSize());
    }

    long total() {
        return weights + adapters + gradients + optimizer + activations;
    }
}
