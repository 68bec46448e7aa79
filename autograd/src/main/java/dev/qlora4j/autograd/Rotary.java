package dev.qlora4j.autograd;

/**
 * How rotary position embedding turns a position into angles: the base {@code theta} and Hugging
 * Face's rope scaling, as transformers' rope-initialisation functions define each type.
 * <ul>
 *   <li>{@link Type#DEFAULT}: {@code inv_freq[i] = theta^(-2i/dim)}.</li>
 *   <li>{@link Type#LINEAR}: the default divided by {@code factor} (positions interpolated).</li>
 *   <li>{@link Type#DYNAMIC} (NTK): the default with the base raised to
 *       {@code theta·(factor·L/maxPositions - (factor - 1))^(dim/(dim - 2))}, where L is the sequence
 *       length when it passes {@code maxPositions}, else {@code maxPositions} (so short contexts get
 *       the plain frequencies).</li>
 *   <li>{@link Type#LLAMA3}: Llama 3.1's smooth interpolation: with wavelength {@code 2π/inv_freq},
 *       frequencies whose wavelength exceeds {@code originalMaxPositions/lowFreqFactor} are divided by
 *       {@code factor}, those shorter than {@code originalMaxPositions/highFreqFactor} are kept, and
 *       those between are blended, {@code (1 - s)·f/factor + s·f} with
 *       {@code s = (originalMaxPositions/wavelength - lowFreqFactor)/(highFreqFactor - lowFreqFactor)}.</li>
 * </ul>
 * All four leave the attention scale at 1.
 *
 * @param theta                the base ({@code rope_theta})
 * @param type                 the scaling ({@code rope_type}, or the legacy {@code type})
 * @param factor               the scaling factor (1 for {@link Type#DEFAULT})
 * @param lowFreqFactor        Llama 3's {@code low_freq_factor}
 * @param highFreqFactor       Llama 3's {@code high_freq_factor}
 * @param originalMaxPositions Llama 3's {@code original_max_position_embeddings}; for
 *                             {@link Type#DYNAMIC}, the model's {@code max_position_embeddings}
 */
public record Rotary(double theta, Type type, double factor, double lowFreqFactor, double highFreqFactor,
                     int originalMaxPositions) {
    /** The rope scaling types implemented. */
    public enum Type {
        /** No scaling. */
        DEFAULT,
        /** Positions interpolated by {@code factor}. */
        LINEAR,
        /** Dynamic NTK: the base grows once the sequence passes the trained length. */
        DYNAMIC,
        /** Llama 3.1's frequency-dependent interpolation. */
        LLAMA3
    }

    /** Checks the parameters a type uses. */
    public Rotary {
        if (!(theta > 0) || type == null) {
            throw new IllegalArgumentException("rotary embedding: theta " + theta + " and type " + type
                    + "; expected theta > 0 and a type");
        }
        if (type != Type.DEFAULT && !(factor >= 1)) {
            throw new IllegalArgumentException("rope scaling " + type + ": factor " + factor + ", expected >= 1");
        }
        if ((type == Type.LLAMA3 || type == Type.DYNAMIC) && originalMaxPositions <= 0) {
            throw new IllegalArgumentException("rope scaling " + type + ": original max positions " + originalMaxPositions
                    + ", expected > 0");
        }
        if (type == Type.LLAMA3 && !(highFreqFactor > lowFreqFactor && lowFreqFactor > 0)) {
            throw new IllegalArgumentException("rope scaling llama3: low_freq_factor " + lowFreqFactor
                    + " and high_freq_factor " + highFreqFactor + "; expected 0 < low < high");
        }
    }

    /** Plain RoPE with base {@code theta}. */
    public static Rotary plain(double theta) {
        return new Rotary(theta, Type.DEFAULT, 1, 0, 0, 0);
    }

    /**
     * The inverse frequencies {@code inv_freq[0 .. dim/2)} for a head dimension {@code dim}, for a
     * sequence of {@code seqLen} positions (which only {@link Type#DYNAMIC} uses), in f64.
     */
    public double[] inverseFrequencies(int dim, int seqLen) {
        double base = theta;
        if (type == Type.DYNAMIC) {
            double len = Math.max(seqLen, originalMaxPositions);
            base = theta * Math.pow(factor * len / originalMaxPositions - (factor - 1), (double) dim / (dim - 2));
        }
        double[] f = new double[dim / 2];
        for (int i = 0; i < f.length; i++) {
            f[i] = 1.0 / Math.pow(base, 2.0 * i / dim);
            f[i] = switch (type) {
                case DEFAULT, DYNAMIC -> f[i];
                case LINEAR -> f[i] / factor;
                case LLAMA3 -> llama3(f[i]);
            };
        }
        return f;
    }

    private double llama3(double f) {
        double wavelength = 2 * Math.PI / f;
        double lowFreqWavelength = originalMaxPositions / lowFreqFactor;
        double highFreqWavelength = originalMaxPositions / highFreqFactor;
        if (wavelength > lowFreqWavelength) {
            return f / factor;
        }
        if (wavelength < highFreqWavelength) {
            return f;
        }
        double s = (originalMaxPositions / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
        return (1 - s) * f / factor + s * f;
    }

    /** Whether the angles depend on the sequence length (and so must be recomputed as it grows). */
    boolean dependsOnLength() {
        return type == Type.DYNAMIC;
    }
}
