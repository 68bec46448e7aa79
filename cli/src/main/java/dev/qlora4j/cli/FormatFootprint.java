package dev.qlora4j.cli;

import dev.qlora4j.autograd.llama.BaseFormat;
import dev.qlora4j.autograd.llama.LlamaModel;
import dev.qlora4j.engine.Allocator;
import dev.qlora4j.engine.Device;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A model's memory in one base format, measured: the bytes allocated on a device while it is loaded
 * there (blocks as allocated, shared code maps once) and the exact bytes of its linear weights
 * (quantization state counted per weight, as a checkpoint file stores it).
 */
record FormatFootprint(BaseFormat format, long allocated, long linearBytes) {
    /** The formats the exercises compare, widest first. */
    static final List<BaseFormat> FORMATS =
            List.of(BaseFormat.F32, BaseFormat.BF16, BaseFormat.INT8, BaseFormat.NF4_NO_DOUBLE_QUANT, BaseFormat.NF4);

    /** Builds or loads a model in a format. */
    interface Loader {
        LlamaModel load(BaseFormat format) throws IOException;
    }

    /**
     * Loads the model in each of {@link #FORMATS} in turn, moves it to {@code device}, and measures
     * and closes it; the bytes are those of the device's allocator.
     */
    static List<FormatFootprint> measure(Device device, Loader loader) throws IOException {
        Allocator allocator = device.allocator();
        List<FormatFootprint> rows = new ArrayList<>();
        for (BaseFormat f : FORMATS) {
            long before = allocator.stats().live();
            try (LlamaModel m = loader.load(f)) {
                m.to(device);
                rows.add(new FormatFootprint(f, allocator.stats().live() - before, m.linearBytes()));
            }
        }
        return rows;
    }

    /** The format's name in tables: "NF4 + double quant", "NF4", "INT8", ... */
    String name() {
        return switch (format) {
            case NF4 -> "NF4 + double quant";
            case NF4_NO_DOUBLE_QUANT -> "NF4";
            default -> format.name();
        };
    }
}
