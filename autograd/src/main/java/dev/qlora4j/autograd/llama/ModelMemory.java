package dev.qlora4j.autograd.llama;

import dev.qlora4j.nf4.FourBitWeight;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What loading a model in a base format takes in host memory, checked against what is available
 * before anything is read: a model that cannot fit is refused with both numbers and the format that
 * would fit, instead of growing until the operating system stops the process.
 */
public final class ModelMemory {
    /** Overrides the available bytes (tests, or a budget smaller than the machine). */
    public static final String AVAILABLE_PROPERTY = "qlora4j.memory.available";
    private static final List<BaseFormat> BY_SIZE = List.of(BaseFormat.F32, BaseFormat.BF16, BaseFormat.INT8,
            BaseFormat.NF4_NO_DOUBLE_QUANT, BaseFormat.NF4);

    private ModelMemory() {
    }

    /**
     * Bytes the loaded model holds: the decoder's linear weights in {@code format} (quantization state
     * included), the embeddings, norms, biases and output head in F32, plus the largest linear weight
     * once in F32, which conversion holds while it quantizes.
     */
    public static long bytesNeeded(LlamaConfig c, BaseFormat format) {
        long linear = 0;
        long largest = 0;
        for (String module : LlamaModel.LINEAR_MODULES) {
            int[] s = c.linearShape(module);
            long n = (long) s[0] * s[1];
            largest = Math.max(largest, n);
            linear += switch (format) {
                case NF4, FP4 -> FourBitWeight.footprintBytes(n, 64, true);
                case NF4_NO_DOUBLE_QUANT -> FourBitWeight.footprintBytes(n, 64, false);
                case INT8 -> n + 4L * s[0];
                case BF16 -> 2 * n;
                case F32 -> 4 * n;
            };
        }
        return linear * c.layers() + 4 * c.denseParameters() + 4 * largest;
    }

    /**
     * The host memory available now: {@value #AVAILABLE_PROPERTY} when set, else Linux's MemAvailable
     * (free memory plus what the page cache can give back), else the JVM's view of free physical memory.
     */
    public static long available() {
        String forced = System.getProperty(AVAILABLE_PROPERTY);
        if (forced != null) {
            return Long.parseLong(forced.trim());
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // Not Linux, or unreadable: fall through to the JVM's view.
        }
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getFreeMemorySize();
    }

    /**
     * @throws IllegalStateException when the model would not fit, with what it needs, what is
     *         available, and the most precise format that would fit (or that none does)
     */
    static void require(Path dir, LlamaConfig c, BaseFormat format) {
        long need = bytesNeeded(c, format);
        long have = available();
        if (need <= have) {
            return;
        }
        String fits = BY_SIZE.stream().filter(f -> bytesNeeded(c, f) <= have).findFirst()
                .map(f -> "--base-format " + f.label() + " needs " + gib(bytesNeeded(c, f)))
                .orElse("no base format fits (NF4 + double quant needs " + gib(bytesNeeded(c, BaseFormat.NF4)) + ")");
        throw new IllegalStateException("loading " + dir + " as " + format.label() + " needs " + gib(need)
                + " of memory, and " + gib(have) + " is available; " + fits);
    }

    private static String gib(long bytes) {
        if (bytes >= 1L << 30) {
            return String.format("%.2f GiB", bytes / (double) (1L << 30));
        }
        return bytes >= 1L << 20 ? String.format("%.2f MiB", bytes / (double) (1L << 20)) : String.format("%.1f KiB", bytes / 1024.0);
    }
}
