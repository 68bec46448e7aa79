package dev.qlora4j.autograd;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.Tensor;

import java.util.List;
import java.util.SplittableRandom;

/**
 * A linear layer with a frozen base W [out, in] and a trainable low-rank update:
 * {@code y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ}, A [r, in], B [out, r], s = alpha/r (or alpha/√r with rsLoRA).
 * Initialised as PEFT does, so the adapted layer starts equal to the base: B = 0, and A
 * Kaiming-uniform with a = √5 (U(-1/√in, 1/√in)) or, for {@link Init#GAUSSIAN}, N(0, 1/r²).
 * The adapter can be switched off at run time. Owns A and B (f32 master weights, on the base's
 * device); create the layer
 * outside any per-step {@link dev.qlora4j.engine.Scope}, which would otherwise free them.
 */
public final class LoraLinear implements AutoCloseable {
    /** How A is initialised (B always starts at zero). */
    public enum Init {
        /** Uniform on [-1/√in, 1/√in): PEFT's default, Kaiming-uniform with a = √5. */
        KAIMING_UNIFORM,
        /** Normal with mean 0 and standard deviation 1/r: PEFT's {@code init_lora_weights="gaussian"}. */
        GAUSSIAN
    }

    private final FrozenWeight base;
    private final Var a;
    private final Var b;
    private final float alpha;
    private final boolean rsLora;
    private boolean enabled = true;
    private double dropout;
    private boolean training;
    private final SplittableRandom dropoutSeeds;

    private LoraLinear(FrozenWeight base, Tensor a, Tensor b, float alpha, boolean rsLora, long seed) {
        this.dropoutSeeds = new SplittableRandom(seed ^ 0x5DEECE66DL);
        this.base = base;
        this.a = Var.leaf(a, true);
        this.b = Var.leaf(b, true);
        this.alpha = alpha;
        this.rsLora = rsLora;
    }

    /**
     * @throws IllegalArgumentException for a rank outside [1, min(in, out)] or a non-positive alpha
     */
    public static LoraLinear create(FrozenWeight base, int rank, float alpha, boolean rsLora, Init init, long seed) {
        int out = base.shape().dim(0);
        int in = base.shape().dim(1);
        if (rank < 1 || rank > Math.min(in, out)) {
            throw new IllegalArgumentException("LoRA rank " + rank + " for a [" + out + ", " + in + "] weight; expected 1.."
                    + Math.min(in, out));
        }
        if (!(alpha > 0)) {
            throw new IllegalArgumentException("LoRA alpha " + alpha + "; expected > 0");
        }
        SplittableRandom random = new SplittableRandom(seed);
        float[] av = new float[rank * in];
        double bound = 1 / Math.sqrt(in); // gain √(2/(1+5)) times √(3/fan_in)
        for (int i = 0; i < av.length; i++) {
            av[i] = (float) (init == Init.KAIMING_UNIFORM ? (random.nextDouble() * 2 - 1) * bound : random.nextGaussian() / rank);
        }
        try (Tensor host = Tensor.of(av, rank, in)) {
            return new LoraLinear(base, host.to(base.device()), Tensor.zeros(DType.F32, dev.qlora4j.engine.Shape.of(out, rank),
                    base.device()), alpha, rsLora, seed);
        }
    }

    /** The rank r: rows of A, columns of B. */
    public int rank() {
        return a.value().dim(0);
    }

    /** The LoRA alpha, which {@link #scaling()} divides by r (or √r). */
    public float alpha() {
        return alpha;
    }

    /** Whether the scaling is rank-stabilised: alpha / √r rather than alpha / r. */
    public boolean rsLora() {
        return rsLora;
    }

    /** alpha / r, or alpha / √r with rsLoRA. */
    public float scaling() {
        return (float) (rsLora ? alpha / Math.sqrt(rank()) : alpha / rank());
    }

    /** The frozen base W [out, in]; the caller's, not closed with this layer. */
    public FrozenWeight base() {
        return base;
    }

    /** A [r, in], trainable F32; owned by this layer. */
    public Var loraA() {
        return a;
    }

    /** B [out, r], trainable F32; owned by this layer. */
    public Var loraB() {
        return b;
    }

    /** The trainable parameters: A and B. */
    public List<Var> parameters() {
        return List.of(a, b);
    }

    /** Switches the adapter on or off; off, the layer is its base. */
    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    /** Whether the adapter is on; off, {@link #forward} computes the base alone. */
    public boolean enabled() {
        return enabled;
    }

    /**
     * Dropout probability on the LoRA branch's input (PEFT's lora_dropout), applied only while
     * {@link #setTraining training}.
     */
    public void setDropout(double p) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("LoRA dropout " + p + "; expected 0 <= p < 1");
        }
        this.dropout = p;
    }

    /** Training mode switches the branch dropout on. */
    public void setTraining(boolean training) {
        this.training = training;
    }

    /**
     * y = x·Wᵀ + s·dropout(x)·Aᵀ·Bᵀ for x [..., in], F32 [..., out] (x·Wᵀ alone while disabled);
     * dropout applies only while training, with a fresh mask each call drawn from the layer's seed.
     */
    public Var forward(Var x) {
        return forward(x, nextDropoutSeed());
    }

    /**
     * The seed of the next call's dropout mask, drawn from the layer's seed. A caller that must run the
     * layer twice with one mask (activation checkpointing) draws it once and passes it to
     * {@link #forward(Var, long)}.
     */
    public long nextDropoutSeed() {
        return dropoutSeeds.nextLong();
    }

    /**
     * y = x·Wᵀ + s·dropout(x)·Aᵀ·Bᵀ. Without dropout this is the fused {@link F#lora} op; with it, the
     * branch is composed from matmuls over the dropped-out input (its mask from {@code seed}).
     */
    public Var forward(Var x, long seed) {
        if (!enabled) {
            return LinearOp.apply(x, base);
        }
        if (dropout == 0 || !training) {
            return F.lora(x, base, a, b, scaling());
        }
        Var dropped = F.dropout(x, dropout, seed);
        Var branch = F.matmul(F.matmul(dropped, F.transpose(a, 0, 1)), F.transpose(b, 0, 1));
        return F.add(LinearOp.apply(x, base), F.scale(branch, scaling()));
    }

    /** s·B·A, the update merging adds to W, in F32 [out, in]. */
    public Tensor delta() {
        try (Tensor ba = Ops.matmul(b.value(), a.value())) {
            return Ops.scale(ba, scaling());
        }
    }

    /**
     * W + s·B·A in {@code dtype} (F32 or BF16): the base with the adapter merged in. A quantized base
     * is dequantized first; quantizing the result again is lossy, which is why this returns a dense copy.
     */
    public Tensor merged(DType dtype) {
        try (Tensor w = dense(); Tensor d = delta(); Tensor sum = Ops.add(w, d)) {
            return Ops.cast(sum, dtype);
        }
    }

    /**
     * The adapter merged into a 4-bit base and quantized again, in the base's own format (type,
     * block size, double quantization): a new weight, lossy — the merged values are rounded to the
     * 4-bit code book, as PEFT's merge into a bitsandbytes 4-bit layer does.
     *
     * @throws IllegalStateException when the base is not a 4-bit weight
     */
    public dev.qlora4j.nf4.FourBitWeight mergedRequantized() {
        if (!(base instanceof FrozenWeight.Quantized q) || !(q.w() instanceof dev.qlora4j.nf4.FourBitWeight f)) {
            throw new IllegalStateException("mergedRequantized: the base is " + base + ", not a 4-bit weight; use merged(dtype)");
        }
        try (Tensor merged = merged(DType.F32)) {
            return dev.qlora4j.nf4.FourBitWeight.quantize(merged, f.type(), f.blocksize(), f.doubleQuant());
        }
    }

    /** {@code merged - s·B·A}: the base back from a merged weight (exact up to f32 rounding). */
    public Tensor unmerge(Tensor merged) {
        try (Tensor m = Ops.cast(merged, DType.F32); Tensor d = delta(); Tensor diff = Ops.sub(m, d)) {
            return Ops.cast(diff, merged.dtype());
        }
    }

    private Tensor dense() {
        return switch (base) {
            case FrozenWeight.Dense dw -> Ops.cast(dw.w(), DType.F32);
            case FrozenWeight.Quantized qw -> qw.w().dequantize(DType.F32);
        };
    }

    /** Frees A, B and their gradients; the base is the caller's. */
    @Override
    public void close() {
        a.zeroGrad();
        b.zeroGrad();
        a.value().close();
        b.value().close();
    }
}
