package dev.qlora4j.cli;

import dev.qlora4j.autograd.llama.BaseFormat;
import dev.qlora4j.autograd.llama.LlamaConfig;
import dev.qlora4j.autograd.llama.LlamaModel;
import dev.qlora4j.autograd.llama.ModelMemory;

import java.io.IOException;
import java.nio.file.Path;

/** Loads a model folder for a command, with a progress bar on standard error when the model is large. */
final class ModelLoader {
    /** Models past this many bytes in their base format take long enough to read and quantize to show progress. */
    private static final long LARGE = 1L << 30;

    private ModelLoader() {
    }

    static LlamaModel load(Path dir, BaseFormat format) throws IOException {
        LlamaConfig c = LlamaConfig.read(dir);
        if (ModelMemory.bytesNeeded(c, format) < LARGE) {
            return LlamaModel.load(dir, format);
        }
        ProgressBar bar = new ProgressBar(System.err, "loading " + dir.getFileName() + " as " + format.label(), c.layers());
        return LlamaModel.load(dir, format, (done, layers) -> bar.update(done, "layers"));
    }
}
