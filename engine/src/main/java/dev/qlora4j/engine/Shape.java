package dev.qlora4j.engine;

import java.util.Arrays;

/**
 * The dimensions of a tensor, outermost first. Immutable. A rank-0 shape has one element.
 */
public final class Shape {
    private final int[] dims;
    private final long numel;

    private Shape(int[] dims) {
        long n = 1;
        for (int d : dims) {
            if (d < 0) {
                throw new IllegalArgumentException("shape " + Arrays.toString(dims) + ": dimensions must be >= 0");
            }
            n = Math.multiplyExact(n, d);
        }
        this.dims = dims;
        this.numel = n;
    }

    /** A shape with the given dimensions (copied); no dimensions give the rank-0 shape. */
    public static Shape of(int... dims) {
        return new Shape(dims.clone());
    }

    /**
     * A shape with the given dimensions, each of which must fit an {@code int}.
     *
     * @throws IllegalArgumentException when a dimension is negative or above {@link Integer#MAX_VALUE}
     */
    public static Shape of(long... dims) {
        int[] d = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] > Integer.MAX_VALUE || dims[i] < 0) {
                throw new IllegalArgumentException("shape " + Arrays.toString(dims)
                        + ": each dimension must be in [0, " + Integer.MAX_VALUE + "]");
            }
            d[i] = (int) dims[i];
        }
        return new Shape(d);
    }

    /** The number of dimensions; 0 for a scalar. */
    public int rank() {
        return dims.length;
    }

    /** Size of dimension {@code axis}; a negative axis counts from the end. */
    public int dim(int axis) {
        return dims[normalizeAxis(axis)];
    }

    /** A copy of the dimensions. */
    public int[] dims() {
        return dims.clone();
    }

    /** Total number of elements. */
    public long numel() {
        return numel;
    }

    /**
     * Maps a possibly negative axis to {@code [0, rank)}.
     *
     * @throws IllegalArgumentException when the axis is out of range
     */
    public int normalizeAxis(int axis) {
        int a = axis < 0 ? axis + dims.length : axis;
        if (a < 0 || a >= dims.length) {
            throw new IllegalArgumentException("axis " + axis + " is out of range for shape " + this);
        }
        return a;
    }

    /** Row-major (C-order) strides in elements. */
    public long[] contiguousStrides() {
        long[] s = new long[dims.length];
        long acc = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= dims[i];
        }
        return s;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return Arrays.toString(dims);
    }
}
