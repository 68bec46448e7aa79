package dev.qlora4j.cli;

import dev.qlora4j.autograd.llama.BaseFormat;
import dev.qlora4j.autograd.llama.LlamaConfig;
import dev.qlora4j.autograd.llama.LlamaModel;
import dev.qlora4j.engine.Allocator;
import dev.qlora4j.engine.DType;
import dev.qlora4j.nf4.FourBitWeight;

import java.util.Collection;

/**
 * The memory one QLoRA training step needs at its peak, by part, computed from a config for a step
 * on a GPU — what sits in device memory, and what stays in host memory beside it — and for a step on
 * the CPU, where the two are one memory. Parts: the frozen weights in their format (embeddings and
 * head in BF16, norms in F32, as the engine keeps them; under a GPU the untied input embedding stays in
 * host memory), the adapters, their gradients and AdamW's two moments (all F32), the activations the
 * tape keeps for backward, and the larger of backward's gradients in flight and the loss's workspace.
 *
 * <p>Activations are what the engine keeps from the forward pass until the step's scope closes: every
 * op's output, not only what backward reads, counted in F32 values from the decoder's forward: per
 * layer and token the two norms' and the residual adds' outputs and o_proj's and down_proj's (6·d),
 * q and k before and after RoPE and v (2·H·hd + 3·G·hd, for H query and G key/value heads), the
 * attention output and its copy back to [T, H·hd] (2·H·hd) with one log-sum-exp per query head (H),
 * the MLP's gate, up and SwiGLU product (3·MLP width; the SwiGLU is fused and keeps no silu(gate)),
 * and the rank for each adapter; per token the embedding and the final norm (2·d); per layer and
 * position, not token, the cos and sin tables of q's and k's RoPE (4·hd). Attention is fused
 * ({@code F.causalAttention}): nothing grows with T². The head and the loss are fused too
 * ({@code LlamaModel.loss}): no logits are kept. With gradient checkpointing a step keeps only each
 * layer's input (d per token and layer; in host memory when offloaded) and makes one layer's
 * activations again during backward.
 *
 * <p>The peak comes in backward. In a layer's backward the largest moment is the fused SwiGLU's: the
 * gradients of gate (written over its output's) and of up (2·MLP width per token) with the residual
 * stream's gradient (d per token; with checkpointing also the layer output's, 2·d), while the adapter
 * gradients of the layers after it exist; a recomputed layer has released its output and down_proj's
 * by then. Before the layers, the loss recomputes its logits chunk by chunk: two chunks of
 * logits (the logits and their log-softmax, or it and dlogits) with the hidden state's gradient (d per
 * token) and a chunk's share of it. The step's peak is the larger of the two moments.
 * {@code qlora4j memory --model demo} prints the peak measured by the allocator beside this count.
 *
 * @param weights         frozen weights on the device
 * @param hostWeights     frozen weights left in host memory under a GPU (the untied input embedding)
 * @param activations     activations kept for backward on the device
 * @param hostActivations checkpointed layer inputs offloaded to host memory
 * @param recomputed      one layer's activations, made again during backward (checkpointing)
 * @param inFlight        a layer backward's largest set of gradients in flight
 * @param lossWorkspace   the loss's chunks of logits and its gradient of the hidden state (on a GPU, with
 *                        a BF16 copy of a chunk of dlogits for the BF16 head's product)
 * @param devicePeak      the step's peak in a GPU's memory: weights, adapters and moments with the larger
 *                        of the loss's moment (every activation and its workspace) and a layer
 *                        backward's (what is kept then, the gradients made by then, the layer recomputed
 *                        and its gradients in flight); less than the sum of the parts
 * @param cpuPeak         the step's peak on the CPU, where host and device are one memory
 */
record TrainingMemory(long weights, long hostWeights, long adapters, long gradients, long optimizer, long activations,
                      long hostActivations, long recomputed, long inFlight, long lossWorkspace, long devicePeak,
                      long cpuPeak) {
    /**
     * How the step is run: checkpointing, its layer inputs offloaded and kept in BF16, and the loss's
     * chunk of logits.
     */
    record Options(boolean checkpointing, boolean offload, boolean bf16Inputs, long lossChunkBytes) {
    }

    /** Elements of a 4-bit weight the CUDA backend decodes to BF16 at a time (nf4's CudaQuantizedMatmul). */
    private static final long CUDA_BAND_ELEMENTS = 1L << 23;

    /** The bytes the allocator hands out for {@code count} tensors of {@code bytes} each. */
    private static long blocks(long count, long bytes) {
        return count * Allocator.sizeClass(bytes);
    }

    static TrainingMemory of(LlamaConfig c, BaseFormat format, Collection<String> targets, int rank, int batch, int seq,
                             Options o) {
        long linear = 0;
        for (String m : LlamaModel.LINEAR_MODULES) {
            int[] s = c.linearShape(m);
            linear += c.layers() * weightBlocks(format, s[0], s[1]);
        }
        long d = c.hiddenSize();
        long matrix = blocks(1, (long) c.vocabSize() * d * LlamaModel.embeddingType(format).byteSize());
        long embedding = c.tiedEmbeddings() ? 0 : matrix;
        long biases = 0;
        for (String m : LlamaModel.LINEAR_MODULES) {
            biases += c.hasBias(m) ? blocks(c.layers(), 4L * c.linearShape(m)[0]) : 0;
        }
        long dense = matrix + blocks(2L * c.layers() + 1, 4 * d) + biases;   // head (or tied table), norms, biases
        long lora = 0;
        for (String m : targets) {
            int[] s = c.linearShape(m);
            lora += blocks(c.layers(), 4L * rank * s[1]) + blocks(c.layers(), 4L * rank * s[0]);
        }
        long tokens = (long) batch * seq;
        long layer = layerBytes(c, targets.size(), rank, batch, seq);
        long input = blocks(1, 4 * tokens * d);   // one layer's input, or any [B·T, d] F32 tensor
        long keptInput = o.bf16Inputs() ? blocks(1, 2 * tokens * d) : input;   // a checkpointed layer's input as kept
        // Besides the layers' own: the embedding's output and the final norm's (checkpointed, the
        // embedding's output is the first layer's input and the chain's output is kept instead).
        long outside = 2 * input;
        boolean offload = o.checkpointing() && o.offload();
        // Offloaded, even the first layer's input (the embedding's output) leaves the device.
        long kept = o.checkpointing() ? (offload ? 0 : c.layers()) * keptInput + outside : layer * c.layers() + outside;
        // Kept as copies (offloaded or BF16), a layer's input comes back as an F32 tensor of its own.
        long restored = o.checkpointing() && (offload || o.bf16Inputs()) ? input : 0;
        long chunkRows = Math.max(1, Math.min(tokens, o.lossChunkBytes() / (4L * c.vocabSize())));
        long loss = blocks(2, 4 * chunkRows * c.vocabSize()) + input + blocks(1, 4 * chunkRows * d);
        // cuBLAS multiplies a BF16 head with BF16 operands: dlogits is cast to BF16 for dh = dlogits·W.
        long gpuLoss = loss + (LlamaModel.embeddingType(format) == DType.BF16 ? blocks(1, 2 * chunkRows * c.vocabSize()) : 0);
        long held = linear + dense + 3 * lora;
        // Backward makes the adapter gradients layer by layer, last layer first, and peaks in a layer's
        // SwiGLU: by then the later layers' gradients exist, and of this layer's only down_proj's.
        long perLayer = lora / c.layers();
        long down = targets.contains("down_proj") ? blocks(1, 4L * rank * c.intermediateSize()) + blocks(1, 4L * rank * d) : 0;
        long atLayer;
        if (o.checkpointing() && !offload) {
            // Kept inputs are released as their layer is done, so layer l peaks with l + 1 of them:
            // linear in l, its largest at the first layer or the last.
            atLayer = Math.max(c.layers() * keptInput + down, keptInput + (c.layers() - 1) * perLayer + down) + outside + restored;
        } else {
            atLayer = kept + restored + (c.layers() - 1) * perLayer + down;
        }
        // A recomputed layer's backward releases each output once its op's backward has run. Three moments
        // of a layer's backward compete for its peak; at each, the residual stream's gradient is in flight
        // (and, checkpointed, the layer output's):
        // - the SwiGLU's: its gradients of gate (written over its output's) and of up, the layer's output and
        //   down_proj's (with its LoRA's x·Aᵀ) released by then;
        // - on a GPU, up_proj's input gradient after it: its output [B·T, d], a BF16 copy of its input and a
        //   decoded BF16 band of the weight, the SwiGLU product released too;
        // - on a GPU, down_proj's input gradient before it: its output [B·T, MLP], a BF16 copy of its input
        //   and a band, only the layer's output released.
        long recomputed = o.checkpointing() ? layer : 0;
        long seeds = (o.checkpointing() ? 2 : 1) * input;
        long mlp = blocks(1, 4 * tokens * c.intermediateSize());
        long beforeSwiglu = o.checkpointing() ? 2 * input + (targets.contains("down_proj") ? blocks(1, 4 * tokens * rank) : 0) : 0;
        long band = blocks(1, Math.min(2L * c.intermediateSize() * d, 2L * CUDA_BAND_ELEMENTS));
        long swiglu = recomputed - beforeSwiglu + seeds + 2 * mlp;
        long up = recomputed - beforeSwiglu - (o.checkpointing() ? mlp : 0) + seeds + 2 * mlp + input
                + blocks(1, 2 * tokens * c.intermediateSize()) + band;
        long beforeDown = recomputed - (o.checkpointing() ? input : 0) + seeds + mlp + blocks(1, 2 * tokens * d) + band;
        long inFlight = seeds + 2 * mlp;   // printed: the SwiGLU moment's gradients
        long inLayers = atLayer + swiglu;
        long gpuLayers = atLayer + Math.max(swiglu, Math.max(up, beforeDown));
        long peak = held + Math.max(kept + gpuLoss, gpuLayers);
        // On the CPU host and device are one memory: offloading keeps the inputs where they are.
        long cpuPeak = offload ? of(c, format, targets, rank, batch, seq, new Options(true, false, o.bf16Inputs(), o.lossChunkBytes())).cpuPeak
                : held + Math.max(kept + loss, inLayers) + embedding;
        return new TrainingMemory(linear + dense, embedding, lora, lora, 2 * lora, kept, offload ? c.layers() * keptInput : 0,
                o.checkpointing() ? layer : 0, inFlight, gpuLoss, peak, cpuPeak);
    }

    /** The allocator's bytes for a [rows, cols] linear weight stored in {@code format}. */
    private static long weightBlocks(BaseFormat format, long rows, long cols) {
        return switch (format) {
            case NF4, FP4, NF4_NO_DOUBLE_QUANT -> {
                long sum = 0;
                for (long part : FourBitWeight.tensorBytes(rows * cols, 64, format != BaseFormat.NF4_NO_DOUBLE_QUANT)) {
                    sum += blocks(1, part);
                }
                yield sum;
            }
            case INT8 -> blocks(1, rows * cols) + blocks(1, rows * Float.BYTES);
            case BF16, F32 -> blocks(1, format.weightBytes(rows, cols));
        };
    }

    /** What one decoder layer keeps for backward: its forward's outputs and the RoPE tables. */
    static long layerBytes(LlamaConfig c, int adapters, int rank, int batch, int seq) {
        long tokens = 4L * batch * seq;   // bytes of one F32 value per token
        long queries = (long) c.heads() * c.headDim();
        long keys = (long) c.kvHeads() * c.headDim();
        return blocks(6, tokens * c.hiddenSize()) + blocks(4, tokens * queries) + blocks(3, tokens * keys)
                + blocks(1, tokens * c.heads()) + blocks(3, tokens * c.intermediateSize()) + blocks(adapters, tokens * rank)
                + blocks(4, 4L * seq * c.headDim());
    }

    /** What a GPU's step keeps in host memory beside it. */
    long host() {
        return hostWeights + hostActivations;
    }

}
