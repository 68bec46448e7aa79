package dev.qlora4j.autograd.llama;

import dev.qlora4j.engine.Device;
import dev.qlora4j.nf4.FourBitWeight;

import java.nio.file.Path;
import java.util.List;

/**
 * What loading a model in a base format takes in memory, checked against what is available on the
 * host and on the device it will compute on, before anything is read: a model that cannot fit is refused with both numbers and the format that
 * would fit, instead of growing until the operating system stops the process.
 */
public final class ModelMemory {
    /** Overrides the host's available bytes, as the CPU backend reads it (tests, or a budget smaller than the machine). */
    public static final String AVAILABLE_PROPERTY = "qlora4j.memory.available";
    private static final List<BaseFormat> BY_SIZE = List.of(BaseFormat.F32, BaseFormat.BF16, BaseFormat.INT8,
            BaseFormat.NF4_NO_DOUBLE_QUANT, BaseFormat.NF4);

    private ModelMemory() {
    }

    /**
     * Bytes the loaded model holds: the decoder's linear weights in {@code format} (quantization state
     * included), the embeddings and output head in {@link LlamaModel#embeddingType}, norms and biases in
     * F32, plus the largest linear weight once in F32, which conversion holds while it quantizes.
     */
    public static long bytesNeeded(LlamaConfig c, BaseFormat format) {
        long linear = 0;
        for (String module : LlamaModel.LINEAR_MODULES) {
            int[] s = c.linearShape(module);
            long n = (long) s[0] * s[1];
            linear += switch (format) {
                case NF4, FP4 -> FourBitWeight.footprintBytes(n, 64, true);
                case NF4_NO_DOUBLE_QUANT -> FourBitWeight.footprintBytes(n, 64, false);
                case INT8 -> n + 4L * s[0];
                case BF16 -> 2 * n;
                case F32 -> 4 * n;
            };
        }
        return linear * c.layers() + c.denseBytes(format) + conversionBytes(c);
    }

    /** The largest linear weight in F32: what conversion holds on the host while it quantizes. */
    private static long conversionBytes(LlamaConfig c) {
        long largest = 0;
        for (String module : LlamaModel.LINEAR_MODULES) {
            int[] s = c.linearShape(module);
            largest = Math.max(largest, (long) s[0] * s[1]);
        }
        return 4 * largest;
    }

    /**
     * @throws IllegalStateException when the model would not fit, with what it needs, what is
     *         available, and the most precise format that would fit (or that none does)
     */
    static void require(Path dir, LlamaConfig c, BaseFormat format) {
        require(dir, c, format, Device.CPU);
    }

    /**
     * {@link #require(Path, LlamaConfig, BaseFormat)} for the model's place once loaded: the host, where
     * it is read, and then {@code device} if that is a GPU (without the host's conversion buffer, and
     * without an untied input embedding, which {@link LlamaModel#to} leaves in host memory).
     *
     * @throws IllegalStateException when the model would not fit there, naming the device
     */
    public static void require(Path dir, LlamaConfig c, BaseFormat format, Device device) {
        check(dir, c, format, Device.CPU);
        if (!device.equals(Device.CPU)) {
            check(dir, c, format, device);
        }
    }

    /** What the model in {@code f} needs on {@code where}: a GPU holds neither the conversion buffer nor an untied input embedding. */
    private static long bytesNeeded(LlamaConfig c, BaseFormat f, Device where) {
        if (where.equals(Device.CPU)) {
            return bytesNeeded(c, f);
        }
        long embedding = c.tiedEmbeddings() ? 0 : (long) c.vocabSize() * c.hiddenSize() * LlamaModel.embeddingType(f).byteSize();
        return bytesNeeded(c, f) - conversionBytes(c) - embedding;
    }

    private static void check(Path dir, LlamaConfig c, BaseFormat format, Device where) {
        long need = bytesNeeded(c, format, where);
        long have = where.memoryAvailable();
        if (need <= have) {
            return;
        }
        String fits = BY_SIZE.stream().filter(f -> bytesNeeded(c, f, where) <= have).findFirst()
                .map(f -> "--base-format " + f.label() + " needs " + gib(bytesNeeded(c, f, where)))
                .orElse("no base format fits (NF4 + double quant needs " + gib(bytesNeeded(c, BaseFormat.NF4, where)) + ")");
        String place = where.equals(Device.CPU) ? "of memory" : "on " + where;
        throw new IllegalStateException("loading " + dir + " as " + format.label() + " needs " + gib(need) + " " + place
                + ", and " + gib(have) + " is available; " + fits);
    }

    private static String gib(long bytes) {
        if (bytes >= 1L << 30) {
            return String.format("%.2f GiB", bytes / (double) (1L << 30));
        }
        return bytes >= 1L << 20 ? String.format("%.2f MiB", bytes / (double) (1L << 20)) : String.format("%.1f KiB", bytes / 1024.0);
    }
}
