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
    /** countedBefore[i]: how many of the first i indices are not ignored, so a range's count needs no device read. */
    private final int[] countedBefore;

    private Indices(Tensor values, int bound, int ignored, int[] countedBefore) {
        this.values = values;
        this.bound = bound;
        this.ignored = ignored;
        this.countedBefore = countedBefore;
        this.counted = countedBefore[countedBefore.length - 1];
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
        int[] countedBefore = new int[given.length + 1];
        for (int i = 0; i < given.length; i++) {
            int id = (int) given[i];
            countedBefore[i + 1] = countedBefore[i];
            if (ignored != NONE_IGNORED && id == ignored) {
                continue;
            }
            if (id < 0 || id >= bound) {
                throw new IndexOutOfBoundsException(op + ": index " + id + " at position " + i + " is outside [0, "
                        + bound + ")");
            }
            countedBefore[i + 1]++;
        }
        return new Indices(ids.to(device), bound, ignored, countedBefore);
    }

    /**
     * The indices at positions [start, end) of these 1-D indices, as a view of the same device copy
     * (no new check, no copy); the caller closes it.
     */
    public Indices rows(int start, int end) {
        if (values.rank() != 1 || start < 0 || end < start || end > values.dim(0)) {
            throw new IllegalArgumentException("Indices.rows [" + start + ", " + end + ") of " + values.describe()
                    + ": expected 1-D indices and 0 <= start <= end <= " + (values.rank() == 1 ? values.dim(0) : "their length"));
        }
        int[] part = new int[end - start + 1];
        for (int i = 0; i < part.length; i++) {
            part[i] = countedBefore[start + i] - countedBefore[start];
        }
        return new Indices(values.slice(0, start, end), bound, ignored, part);
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
