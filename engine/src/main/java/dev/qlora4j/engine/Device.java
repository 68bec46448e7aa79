package dev.qlora4j.engine;

/**
 * Where a tensor's storage lives. {@link #CPU} always works; a CUDA device needs the CUDA runtime
 * and a GPU, and asking for one without them fails with a message that says what is missing.
 *
 * @param kind  CPU or CUDA
 * @param index the CUDA device ordinal; 0 for the CPU
 */
public record Device(Kind kind, int index) {
    /** The kinds of device a backend can provide. */
    public enum Kind {
        /** Host memory, run by the CPU backend. */
        CPU,
        /** An NVIDIA GPU, run by the CUDA backend. */
        CUDA
    }

    /** The host; the only CPU device. */
    public static final Device CPU = new Device(Kind.CPU, 0);

    public Device {
        if (index < 0 || (kind == Kind.CPU && index != 0)) {
            throw new IllegalArgumentException("device " + kind + ":" + index + ": index must be 0 for the CPU and >= 0 for CUDA");
        }
    }

    /**
     * A CUDA device by ordinal; using it needs the CUDA backend (module {@code dev.qlora4j.engine.cuda})
     * and a usable GPU.
     */
    public static Device cuda(int index) {
        return new Device(Kind.CUDA, index);
    }

    /**
     * Parses "cpu", "cuda", "cuda:N" or "auto". "auto" is CUDA device 0 when one is usable and the
     * CPU otherwise, with a one-line message on standard error saying why.
     */
    public static Device parse(String text) {
        String t = text.trim().toLowerCase(java.util.Locale.ROOT);
        if (t.equals("cpu")) {
            return CPU;
        }
        if (t.equals("cuda")) {
            return cuda(0);
        }
        if (t.startsWith("cuda:")) {
            try {
                return cuda(Integer.parseInt(t.substring(5)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("device \"" + text + "\": expected cpu, cuda, cuda:N or auto");
            }
        }
        if (t.equals("auto")) {
            return Backends.autoDevice(true);
        }
        throw new IllegalArgumentException("device \"" + text + "\": expected cpu, cuda, cuda:N or auto");
    }

    /**
     * This device, once its backend is known to be usable: a program that checks here tells its user
     * at once, rather than when the first tensor moves to the device.
     *
     * @throws IllegalStateException saying why the device cannot be used in this process
     * @throws IllegalArgumentException when the ordinal names no present device
     */
    public Device requireUsable() {
        Backends.of(this);
        return this;
    }

    /**
     * CUDA device 0 when it can be used, else the CPU, without a word: what a program picks when its
     * user named no device ({@link #parse}{@code ("auto")} says why when it falls back).
     */
    public static Device preferred() {
        return Backends.autoDevice(false);
    }

    /** The allocator that owns this device's memory: its live, peak and pooled bytes. */
    public Allocator allocator() {
        return Backends.of(this).allocator();
    }

    /**
     * Bytes a new allocation on this device can still get: the host's available memory for the CPU
     * (Linux's MemAvailable; {@code -Dqlora4j.memory.available=BYTES} sets a budget), the free memory
     * {@code cudaMemGetInfo} reports for a GPU. Blocks the allocator's pool keeps for reuse count as used.
     */
    public long memoryAvailable() {
        return Backends.of(this).memoryAvailable();
    }

    /**
     * Waits until every kernel and copy queued on this device has finished, so that a wall-clock
     * time or an allocator peak covers the work; on the CPU, whose operations finish before they
     * return, it returns at once.
     */
    public void synchronize() {
        Backends.of(this).synchronize();
    }

    /**
     * Whether devices of {@code kind} can be used in this process, with the one line their backend
     * reports: for the CPU its vector width, for CUDA the runtime and devices or why not.
     */
    public static Availability availability(Kind kind) {
        return Backends.availability(kind);
    }

    /** How many threads the CPU backend's kernels run on: {@code -Dqlora4j.threads}, else every core. */
    public static int cpuThreads() {
        return dev.qlora4j.engine.spi.CpuKernels.threads();
    }

    /** What {@link #availability(Kind)} found: whether usable, how many devices, and a one-line detail. */
    public record Availability(boolean usable, int deviceCount, String detail) {
    }

    @Override
    public String toString() {
        return kind == Kind.CPU ? "cpu" : "cuda:" + index;
    }
}
