package dev.qlora4j.cli;

import dev.qlora4j.autograd.llama.BaseFormat;
import dev.qlora4j.autograd.llama.LlamaConfig;
import dev.qlora4j.autograd.llama.LlamaModel;
import dev.qlora4j.autograd.llama.ModelMemory;
import dev.qlora4j.engine.Device;

import java.io.IOException;
import java.nio.file.Path;

/** Loads a model folder for a command, with a progress bar on standard error when the model is large. */
final class ModelLoader {
    /** Models past this many bytes in their base format take long enough to read and quantize to show progress. */
    private static final long LARGE = 1L << 30;

    private ModelLoader() {
    }

    /**
     * The model of {@code dir} in {@code format}, read on the host; refused first, with the numbers,
     * when it would not fit there or on {@code device}, where the command will move it.
     */
    static LlamaModel load(Path dir, BaseFormat format, Device device) throws IOException {
        LlamaConfig c = LlamaConfig.read(dir);
        ModelMemory.require(dir, c, format, device);
        if (ModelMemory.bytesNeeded(c, format) < LARGE) {
            return LlamaModel.load(dir, format);
        }
        ProgressBar bar = new ProgressBar(System.err, "loading " + dir.getFileName() + " as " + format.label(), c.layers());
        return LlamaModel.load(dir, format, (done, layers) -> bar.update(done, "layers"));
    }
}
