package dev.qlora4j.engine;

/**
 * I32 indices checked once to lie in {@code [0, bound)} — or to equal an ignored value — and held
 * on the device that uses them: token ids for an embedding, targets for cross-entropy. The check
 * reads the ids where they are given (the host, typically); a forward and its backward then use the
 * device copy without reading it back, which on a GPU would wait for the device's queue.
 */
public final class Indices implements AutoCloseable {
    /** The {@link #ignored()} value of indices that have none. */
    public static final int NONE_IGNORED = Integer.MIN_VALUE;

    private final Tensor values;
    private final int bound;
    private final int ignored;
    private final int counted;

    private Indices(Tensor values, int bound, int ignored, int counted) {
        this.values = values;
        this.bound = bound;
        this.ignored = ignored;
        this.counted = counted;
    }

    /**
     * Checks I32 {@code ids} against {@code [0, bound)} and copies them to {@code device}.
     *
     * @param op the operation named in an error
     * @throws IndexOutOfBoundsException naming the first id outside the range
     */
    public static Indices check(String op, Tensor ids, int bound, Device device) {
        return check(op, ids, bound, NONE_IGNORED, device);
    }

    /**
     * Checks I32 {@code ids} against {@code [0, bound)}, letting {@code ignored} pass (a target that
     * contributes nothing, as PyTorch's {@code ignore_index}), and copies them to {@code device}.
     *
     * @throws IndexOutOfBoundsException naming the first id outside the range that is not ignored
     */
    public static Indices check(String op, Tensor ids, int bound, int ignored, Device device) {
        ids.checkOpen(op);
        if (ids.dtype() != DType.I32) {
            throw new IllegalArgumentException(op + ": indices " + ids.describe() + " have dtype " + ids.dtype()
                    + ", expected I32");
        }
        float[] given = ids.toFloatArray();
        int counted = 0;
        for (int i = 0; i < given.length; i++) {
            int id = (int) given[i];
            if (ignored != NONE_IGNORED && id == ignored) {
                continue;
            }
            if (id < 0 || id >= bound) {
                throw new IndexOutOfBoundsException(op + ": index " + id + " at position " + i + " is outside [0, "
                        + bound + ")");
            }
            counted++;
        }
        return new Indices(ids.to(device), bound, ignored, counted);
    }

    /** The indices, on the device they were checked for. */
    public Tensor tensor() {
        return values;
    }

    /** Every index that is not {@link #ignored()} lies in {@code [0, bound)}. */
    public int bound() {
        return bound;
    }

    /** The value that marks an index to skip, or {@link #NONE_IGNORED}. */
    public int ignored() {
        return ignored;
    }

    /** How many indices are not ignored. */
    public int counted() {
        return counted;
    }

    @Override
    public void close() {
        values.close();
    }
}
