package dev.qlora4j.engine;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * An n-dimensional array: shape, dtype, device, and a window (offset and element strides) onto a
 * {@link Storage} that it shares with its views.
 *
 * <p>Ownership: a tensor holds one reference to its storage, which is freed when the tensor and all
 * its views are closed. A tensor created while a {@link Scope} is open on this thread belongs to
 * that scope. Using a closed tensor throws {@link IllegalStateException}. Not thread-safe for
 * closing; kernels may read and write it from several threads.
 */
public final class Tensor implements AutoCloseable {
    private final Storage storage;
    private final DType dtype;
    private final Shape shape;
    private final long[] strides;
    private final long offset;
    private boolean closed;

    private Tensor(Storage storage, DType dtype, Shape shape, long[] strides, long offset) {
        this.storage = storage;
        this.dtype = dtype;
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
        Scope.register(this);
    }

    // ---- creation ---------------------------------------------------------------------------

    /** A new contiguous tensor whose contents are unspecified (pooled memory is not zeroed). */
    public static Tensor empty(DType dtype, Shape shape, Device device) {
        Storage s = Storage.allocate(device, shape.numel() * dtype.byteSize());
        return new Tensor(s, dtype, shape, shape.contiguousStrides(), 0);
    }

    /** A new contiguous CPU tensor of shape {@code dims} whose contents are unspecified (not zeroed). */
    public static Tensor empty(DType dtype, int... dims) {
        return empty(dtype, Shape.of(dims), Device.CPU);
    }

    /** A new contiguous tensor on {@code device} with every element set to zero. */
    public static Tensor zeros(DType dtype, Shape shape, Device device) {
        Tensor t = empty(dtype, shape, device);
        Backends.of(device).fill(t, 0f);
        return t;
    }

    /** A new contiguous CPU tensor of shape {@code dims} with every element set to zero. */
    public static Tensor zeros(DType dtype, int... dims) {
        return zeros(dtype, Shape.of(dims), Device.CPU);
    }

    /**
     * A CPU tensor of {@code dtype} holding {@code values} in row-major order, each converted as
     * {@link #setFloat} does.
     */
    public static Tensor of(DType dtype, float[] values, int... dims) {
        Shape shape = Shape.of(dims);
        if (shape.numel() != values.length) {
            throw new IllegalArgumentException("Tensor.of: " + values.length + " values given for shape " + shape
                    + ", expected " + shape.numel());
        }
        Tensor t = empty(dtype, shape, Device.CPU);
        if (dtype == DType.F32) {
            MemorySegment.copy(values, 0, t.segment(), java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, 0, values.length);
            return t;
        }
        for (int i = 0; i < values.length; i++) {
            t.setFlat(i, values[i]);
        }
        return t;
    }

    /** An F32 CPU tensor holding {@code values} in row-major order. */
    public static Tensor of(float[] values, int... dims) {
        return of(DType.F32, values, dims);
    }

    /** An I32 CPU tensor holding {@code values} in row-major order: token ids, targets. */
    public static Tensor of(int[] values, int... dims) {
        Shape shape = Shape.of(dims);
        if (shape.numel() != values.length) {
            throw new IllegalArgumentException("Tensor.of: " + values.length + " ints given for shape " + shape
                    + ", expected " + shape.numel());
        }
        Tensor t = empty(DType.I32, shape, Device.CPU);
        MemorySegment.copy(values, 0, t.segment(), java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, 0, values.length);
        return t;
    }

    /**
     * A tensor over memory that another owner frees (a memory-mapped file): no copy, and closing
     * the tensor does not free it.
     */
    public static Tensor wrap(MemorySegment segment, DType dtype, Shape shape, Device device) {
        long need = shape.numel() * dtype.byteSize();
        if (segment.byteSize() != need) {
            throw new IllegalArgumentException("Tensor.wrap: " + segment.byteSize() + " bytes given for " + dtype
                    + " " + shape + ", expected " + need);
        }
        return new Tensor(Storage.wrap(device, segment), dtype, shape, shape.contiguousStrides(), 0);
    }

    // ---- properties ---------------------------------------------------------------------------

    /** The element type. */
    public DType dtype() {
        return dtype;
    }

    /** The dimensions, outermost first. */
    public Shape shape() {
        return shape;
    }

    /** The number of dimensions; 0 for a scalar. */
    public int rank() {
        return shape.rank();
    }

    /** Size of dimension {@code axis}; a negative axis counts from the end. */
    public int dim(int axis) {
        return shape.dim(axis);
    }

    /** Total number of elements. */
    public long numel() {
        return shape.numel();
    }

    /** The device the storage lives on. */
    public Device device() {
        return storage.device();
    }

    /** Element strides, one per dimension. */
    public long[] strides() {
        return strides.clone();
    }

    /** Element stride of dimension {@code axis}; a negative axis counts from the end. */
    public long stride(int axis) {
        return strides[shape.normalizeAxis(axis)];
    }

    /** Offset of element [0, ..., 0] from the start of the storage, in elements. */
    public long offset() {
        return offset;
    }

    /** Offset of element [0, ..., 0] in bytes, for kernels that address {@link #segment()}. */
    public long byteOffset() {
        return offset * dtype.byteSize();
    }

    /** True once this tensor has been closed, directly or by its scope; its views may still be open. */
    public boolean isClosed() {
        return closed;
    }

    /**
     * The stride, in elements, between consecutive matrices of the batch axes (all but the last two)
     * when they collapse to a single one, as a batched GEMM needs; 0 when there is at most one
     * matrix; -1 when they do not collapse (a copy is needed).
     */
    public long matrixBatchStride() {
        long stride = 0;
        long expected = -1;
        for (int d = shape.rank() - 3; d >= 0; d--) {
            if (shape.dim(d) == 1) {
                continue;
            }
            if (expected >= 0 && strides[d] != expected) {
                return -1;
            }
            if (expected < 0) {
                stride = strides[d];
            }
            expected = strides[d] * shape.dim(d);
        }
        return stride;
    }

    /** True when the elements are laid out in row-major order with no gaps. */
    public boolean isContiguous() {
        long expected = 1;
        for (int i = shape.rank() - 1; i >= 0; i--) {
            if (shape.dim(i) != 1 && strides[i] != expected) {
                return false;
            }
            expected *= shape.dim(i);
        }
        return true;
    }

    /**
     * The whole storage this tensor views; element [0,...,0] is at {@link #byteOffset()}.
     *
     * @throws IllegalStateException when the tensor is closed
     */
    public MemorySegment segment() {
        checkOpen("segment");
        return storage.segment();
    }

    /** A short description for messages: dtype, shape, device. */
    public String describe() {
        return dtype + shape.toString() + (device().equals(Device.CPU) ? "" : "@" + device());
    }

    @Override
    public String toString() {
        return "Tensor(" + describe() + (closed ? ", closed)" : ")");
    }

    // ---- element access (for tests, I/O and glue; kernels work on segments) --------------------

    /**
     * Element at the given index, converted to float. On a device this copies the one element to
     * the host: fine for a loss or a test, slow in a loop.
     */
    public float getFloat(int... index) {
        return read(elementOffset("getFloat", index));
    }

    /**
     * Sets the element, converting from float (rounding to nearest-even for 16-bit floats).
     *
     * @throws IllegalStateException for a tensor on a device: fill a CPU tensor and copy it with {@link #to}
     */
    public void setFloat(float value, int... index) {
        write("setFloat", elementOffset("setFloat", index), value);
    }

    /** The i-th element in row-major order, converted to float; see {@link #getFloat} for devices. */
    public float getFlat(long i) {
        return read(flatOffset("getFlat", i));
    }

    /** Sets the i-th element in row-major order; CPU tensors only, as {@link #setFloat}. */
    public void setFlat(long i, float value) {
        write("setFlat", flatOffset("setFlat", i), value);
    }

    /** All elements in row-major order, converted to float (copied from the device first when on one). */
    public float[] toFloatArray() {
        checkOpen("toFloatArray");
        if (!device().equals(Device.CPU)) {
            try (Tensor host = to(Device.CPU)) {
                return host.toFloatArray();
            }
        }
        if (numel() > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("toFloatArray: " + describe() + " has too many elements for a Java array");
        }
        float[] out = new float[(int) numel()];
        if (dtype == DType.F32 && isContiguous()) {
            MemorySegment.copy(storage.segment(), java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, byteOffset(), out, 0, out.length);
            return out;
        }
        for (int i = 0; i < out.length; i++) {
            out[i] = read(flatOffset("toFloatArray", i));
        }
        return out;
    }

    private long elementOffset(String op, int[] index) {
        checkOpen(op);
        if (index.length != shape.rank()) {
            throw new IllegalArgumentException(op + ": index " + Arrays.toString(index) + " has " + index.length
                    + " coordinates, tensor " + describe() + " expects " + shape.rank());
        }
        long e = offset;
        for (int d = 0; d < index.length; d++) {
            if (index[d] < 0 || index[d] >= shape.dim(d)) {
                throw new IndexOutOfBoundsException(op + ": index " + Arrays.toString(index) + " is outside " + describe());
            }
            e += index[d] * strides[d];
        }
        return e;
    }

    private long flatOffset(String op, long i) {
        checkOpen(op);
        if (i < 0 || i >= numel()) {
            throw new IndexOutOfBoundsException(op + ": flat index " + i + " is outside " + describe());
        }
        long e = offset;
        for (int d = shape.rank() - 1; d >= 0; d--) {
            int n = shape.dim(d);
            e += (i % n) * strides[d];
            i /= n;
        }
        return e;
    }

    private float read(long element) {
        if (!device().equals(Device.CPU)) {
            try (Tensor one = view(Shape.of(1), new long[]{1}, element); Tensor host = one.to(Device.CPU)) {
                return host.read(0);
            }
        }
        return dtype.readFloat(storage.segment(), element * dtype.byteSize());
    }

    private void write(String op, long element, float v) {
        if (!device().equals(Device.CPU)) {
            throw new IllegalStateException(op + ": tensor " + describe() + " is on " + device()
                    + "; write elements of a CPU tensor and copy it with to(" + device() + ")");
        }
        switch (dtype) {
            case I8 -> checkedInteger("I8", v, -128, 127);
            case U8 -> checkedInteger("U8", v, 0, 255);
            case I32 -> checkedInteger("I32", v, Integer.MIN_VALUE, Integer.MAX_VALUE);
            default -> {
            }
        }
        dtype.writeFloat(storage.segment(), element * dtype.byteSize(), v);
    }

    private static void checkedInteger(String type, float v, long min, long max) {
        if (v != Math.rint(v) || v < min || v > max) {
            throw new IllegalArgumentException("setFloat: " + v + " is not an integer in [" + min + ", " + max
                    + "], so it cannot be stored as " + type);
        }
    }

    // ---- views ----------------------------------------------------------------------------------

    private Tensor view(Shape newShape, long[] newStrides, long newOffset) {
        storage.retain();
        return new Tensor(storage, dtype, newShape, newStrides, newOffset);
    }

    /**
     * The same elements with another shape; one dimension may be -1 (inferred). A view sharing
     * storage when this tensor is contiguous, otherwise a contiguous copy.
     */
    public Tensor reshape(int... dims) {
        checkOpen("reshape");
        int[] d = dims.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < d.length; i++) {
            if (d[i] == -1) {
                if (infer >= 0) {
                    throw new IllegalArgumentException("reshape " + describe() + " to " + Arrays.toString(dims)
                            + ": at most one dimension may be -1");
                }
                infer = i;
            } else {
                known *= d[i];
            }
        }
        if (infer >= 0 && known > 0 && numel() % known == 0) {
            d[infer] = (int) (numel() / known);
        }
        Shape target;
        try {
            target = Shape.of(d);
        } catch (IllegalArgumentException e) {
            target = null;
        }
        if (target == null || target.numel() != numel()) {
            throw new IllegalArgumentException("reshape " + describe() + " to " + Arrays.toString(dims)
                    + ": the new shape must hold " + numel() + " elements");
        }
        if (isContiguous()) {
            return view(target, target.contiguousStrides(), offset);
        }
        try (Tensor c = contiguous()) {
            return c.reshape(dims);
        }
    }

    /** A view with axes {@code a} and {@code b} swapped. */
    public Tensor transpose(int a, int b) {
        checkOpen("transpose");
        int x = shape.normalizeAxis(a);
        int y = shape.normalizeAxis(b);
        int[] d = shape.dims();
        long[] s = strides.clone();
        int td = d[x];
        d[x] = d[y];
        d[y] = td;
        long ts = s[x];
        s[x] = s[y];
        s[y] = ts;
        return view(Shape.of(d), s, offset);
    }

    /** A view of indices {@code [start, end)} along {@code axis}. */
    public Tensor slice(int axis, int start, int end) {
        checkOpen("slice");
        int x = shape.normalizeAxis(axis);
        if (start < 0 || end < start || end > shape.dim(x)) {
            throw new IllegalArgumentException("slice " + describe() + " along axis " + axis + " [" + start + ", "
                    + end + "): expected 0 <= start <= end <= " + shape.dim(x));
        }
        int[] d = shape.dims();
        d[x] = end - start;
        return view(Shape.of(d), strides.clone(), offset + start * strides[x]);
    }

    /**
     * The same elements on {@code target}: a contiguous view when already there, else a contiguous
     * copy made by the device's backend.
     */
    public Tensor to(Device target) {
        checkOpen("to");
        if (target.equals(device())) {
            return contiguous();
        }
        try (Tensor src = contiguous()) {
            Tensor out = empty(dtype, shape, target);
            Backends.of(target.equals(Device.CPU) ? device() : target).copy(src, out);
            return out;
        }
    }

    /** A contiguous tensor with the same elements: a view when this one already is, else a copy. */
    public Tensor contiguous() {
        checkOpen("contiguous");
        if (isContiguous()) {
            return view(shape, strides.clone(), offset);
        }
        Tensor out = empty(dtype, shape, device());
        Backends.of(device()).copy(this, out);
        return out;
    }

    // ---- lifetime ---------------------------------------------------------------------------------

    /**
     * @throws IllegalStateException naming the operation when this tensor is closed
     */
    public void checkOpen(String op) {
        if (closed) {
            throw new IllegalStateException(op + ": tensor " + describe() + " is closed");
        }
    }

    /** Releases this tensor's reference to its storage. Idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            storage.release();
        }
    }
}
