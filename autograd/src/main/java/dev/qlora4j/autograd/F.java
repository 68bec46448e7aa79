package dev.qlora4j.autograd;

import dev.qlora4j.engine.BinaryOp;
import dev.qlora4j.engine.ReduceOp;
import dev.qlora4j.engine.UnaryOp;

/**
 * The differentiable ops, registered in one place. Each delegates to the class that holds its
 * forward and backward side by side; shapes and dtypes are checked by the engine's {@code Ops}.
 */
public final class F {
    private F() {
    }

    /** Matrix product over the last two axes (batched, or with a shared 2-D right operand). */
    public static Var matmul(Var a, Var b) {
        return MatMulOp.apply(a, b);
    }

    /** {@code a + b}, elementwise with broadcasting. */
    public static Var add(Var a, Var b) {
        return BinaryOps.apply(BinaryOp.ADD, a, b);
    }

    /** {@code a - b}, elementwise with broadcasting. */
    public static Var sub(Var a, Var b) {
        return BinaryOps.apply(BinaryOp.SUB, a, b);
    }

    /** {@code a · b}, elementwise with broadcasting (for the matrix product see {@link #matmul}). */
    public static Var mul(Var a, Var b) {
        return BinaryOps.apply(BinaryOp.MUL, a, b);
    }

    /** {@code s · x}, the number passed to the kernel by value. */
    public static Var scale(Var x, float s) {
        return BinaryOps.scale(x, s);
    }

    /** {@code a / b}, elementwise with broadcasting. */
    public static Var div(Var a, Var b) {
        return BinaryOps.apply(BinaryOp.DIV, a, b);
    }

    /** eˣ, elementwise. */
    public static Var exp(Var x) {
        return UnaryOps.apply(UnaryOp.EXP, x);
    }

    /** The natural logarithm, elementwise. */
    public static Var log(Var x) {
        return UnaryOps.apply(UnaryOp.LOG, x);
    }

    /** x·sigmoid(x). */
    public static Var silu(Var x) {
        return UnaryOps.apply(UnaryOp.SILU, x);
    }

    /** The sum along {@code axis}; {@code keepDim} leaves it in the result with size 1. */
    public static Var sum(Var x, int axis, boolean keepDim) {
        return ReduceOps.apply(ReduceOp.SUM, x, axis, keepDim);
    }

    /** The mean along {@code axis}; {@code keepDim} leaves it in the result with size 1. */
    public static Var mean(Var x, int axis, boolean keepDim) {
        return ReduceOps.apply(ReduceOp.MEAN, x, axis, keepDim);
    }

    /** Sum of all elements, shape [1]. */
    public static Var sum(Var x) {
        return ReduceOps.all(ReduceOp.SUM, x);
    }

    /** Mean of all elements, shape [1]. */
    public static Var mean(Var x) {
        return ReduceOps.all(ReduceOp.MEAN, x);
    }

    /**
     * The same elements with another shape; one dimension may be -1 (inferred). A view when x is
     * contiguous, otherwise a copy.
     */
    public static Var reshape(Var x, int... dims) {
        return ViewOps.reshape(x, dims);
    }

    /** A view with axes {@code a} and {@code b} swapped; a negative axis counts from the end. */
    public static Var transpose(Var x, int a, int b) {
        return ViewOps.transpose(x, a, b);
    }

    /** Softmax along the last axis. */
    public static Var softmax(Var x) {
        return SoftmaxOps.apply(x, false);
    }

    /** Log-softmax along the last axis. */
    public static Var logSoftmax(Var x) {
        return SoftmaxOps.apply(x, true);
    }

    /**
     * Mean cross-entropy of the logits {@code hidden·headᵀ} [N, V] against I32 targets [N] (skipping
     * {@code ignoreIndex}), computed {@code chunkRows} rows at a time so that no [N, V] tensor is kept:
     * the head's product and the loss as one op. {@code trained} is the head's weight when it is
     * trained (it then gets a gradient), else null.
     */
    public static Var linearCrossEntropy(Var hidden, FrozenWeight head, Var trained, dev.qlora4j.engine.Tensor targets,
                                         int ignoreIndex, int chunkRows) {
        return LinearCrossEntropyOp.apply(hidden, head, trained, targets, ignoreIndex, chunkRows);
    }

    /** One block of a checkpointed chain: its output for the input of block {@code index}. */
    @FunctionalInterface
    public interface Block {
        /** The output of block {@code index} for its input. */
        Var apply(int index, Var input);
    }

    /**
     * The chain {@code block(blocks-1)(… block(0)(x))} with activation checkpointing: of the chain only
     * each block's input is kept, on {@code keepInputsOn} (the device x is on, or host memory under a
     * GPU) as {@code keepInputsAs} (F32, or BF16 for half the bytes and a recomputation from rounded
     * inputs), and the backward recomputes each block from its input, last block first. {@code parameters}
     * lists what the blocks may train. Inputs kept in F32, the gradients equal those of the chain
     * recorded plainly, bit for bit, when every block is deterministic.
     */
    public static Var checkpoint(Var x, int blocks, Block block, java.util.List<Var> parameters,
                                 dev.qlora4j.engine.Device keepInputsOn, dev.qlora4j.engine.DType keepInputsAs) {
        return CheckpointOp.apply(x, blocks, block, parameters, keepInputsOn, keepInputsAs);
    }

    /** A frozen linear layer {@code x·Wᵀ}: the gradient flows to x only. */
    public static Var linear(Var x, FrozenWeight w) {
        return LinearOp.apply(x, w);
    }

    /**
     * LoRA linear: {@code x·Wᵀ + scaling·(x·Aᵀ)·Bᵀ} with W frozen (dense or quantized), A [r, in],
     * B [out, r]. Gradients flow to x, A and B; never to W.
     */
    public static Var lora(Var x, FrozenWeight w, Var a, Var b, float scaling) {
        return LoraOp.apply(x, w, a, b, scaling);
    }

    /** Rows of {@code table} [vocab, d] picked by I32 {@code ids}: shape [..ids, d]. */
    public static Var embedding(dev.qlora4j.engine.Tensor ids, Var table) {
        return EmbeddingOp.apply(ids, table);
    }

    /** Mean cross-entropy of logits [N, V] against I32 targets [N], skipping {@code ignoreIndex}. */
    public static Var crossEntropy(Var logits, dev.qlora4j.engine.Tensor targets, int ignoreIndex) {
        return CrossEntropyOp.apply(logits, targets, ignoreIndex);
    }

    /** Rotary position embedding (rotate-half form) on x [B, H, T, hd] for positions offset.., base theta. */
    public static Var rope(Var x, int offset, double theta) {
        return RopeOp.apply(x, offset, Rotary.plain(theta));
    }

    /** Rotary position embedding with Hugging Face's rope scaling ({@link Rotary}). */
    public static Var rope(Var x, int offset, Rotary rotary) {
        return RopeOp.apply(x, offset, rotary);
    }

    /**
     * Causal scaled-dot-product attention with grouped-query heads: q [B, H, T, hd], k and v
     * [B, KV, T, hd] with H a multiple of KV; softmax(q·kᵀ/√hd + causal mask)·v, shape [B, H, T, hd].
     * Fused: no T×T tensor is kept for backward, only the output and a log-sum-exp per query row.
     */
    public static Var causalAttention(Var q, Var k, Var v) {
        return AttentionOps.causal(q, k, v);
    }

    /** Llama's SwiGLU MLP inner product: silu(gate) · up. */
    public static Var swiglu(Var gate, Var up) {
        return SwigluOp.apply(gate, up);
    }

    /** Indices [start, end) along {@code axis}. */
    public static Var slice(Var x, int axis, int start, int end) {
        return SliceConcatOps.slice(x, axis, start, end);
    }

    /** The tensors joined along {@code axis}; they agree on every other axis. */
    public static Var concat(java.util.List<Var> parts, int axis) {
        return SliceConcatOps.concat(parts, axis);
    }

    /** Inverted dropout with probability p and a seed for its mask (apply it in training only). */
    public static Var dropout(Var x, double p, long seed) {
        return StochasticOps.dropout(x, p, seed);
    }

    /** GELU, tanh approximation (torch's {@code approximate="tanh"}). */
    public static Var geluTanh(Var x) {
        return StochasticOps.geluTanh(x);
    }

    /** RMSNorm along the last axis with a per-feature weight. */
    public static Var rmsNorm(Var x, Var weight, float eps) {
        return RmsNormOp.apply(x, weight, eps);
    }
}
