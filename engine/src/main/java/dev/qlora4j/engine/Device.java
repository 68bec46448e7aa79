package dev.qlora4j.engine;

/**
 * Where a tensor's storage lives. {@link #CPU} always works; a CUDA device needs the CUDA runtime
 * and a GPU, and asking for one without them fails with a message that says what is missing.
 *
 * @param kind  CPU or CUDA
 * @param index the CUDA device ordinal; 0 for the CPU
 */
public record Device(Kind kind, int index) {
    public enum Kind { CPU, CUDA }

    public static final Device CPU = new Device(Kind.CPU, 0);

    public Device {
        if (index < 0 || (kind == Kind.CPU && index != 0)) {
            throw new IllegalArgumentException("device " + kind + ":" + index + ": index must be 0 for the CPU and >= 0 for CUDA");
        }
    }

    /** A CUDA device by ordinal; using it needs a CUDA backend, which {@link Backends} checks. */
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
            return Backends.autoDevice();
        }
        throw new IllegalArgumentException("device \"" + text + "\": expected cpu, cuda, cuda:N or auto");
    }

    @Override
    public String toString() {
        return kind == Kind.CPU ? "cpu" : "cuda:" + index;
    }
}
