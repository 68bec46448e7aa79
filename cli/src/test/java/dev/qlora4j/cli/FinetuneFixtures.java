package dev.qlora4j.cli;

import dev.qlora4j.autograd.llama.LlamaModel;
import dev.qlora4j.engine.Device;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** What the finetune tests start from: a demo base folder and a JSONL of letter-shift examples. */
final class FinetuneFixtures {
    private FinetuneFixtures() {
    }

    /** The demo base trained for {@code steps} steps, saved as a Hugging Face folder with its tokenizer at dir/base. */
    static Path base(Path dir, int steps, long seed) throws IOException {
        Path base = dir.resolve("base");
        try (LlamaModel m = DemoModel.trainBase(steps, seed, Device.CPU,
                new ProgressBar(new PrintStream(OutputStream.nullOutputStream()), "", steps, false))) {
            m.saveHf(base);
        }
        DemoTokenizer.write(base);
        return base;
    }

    /** {@code examples} prompt/completion lines of the shift task at dir/shift.jsonl. */
    static Path shiftData(Path dir, int examples) throws IOException {
        StringBuilder lines = new StringBuilder();
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < examples; i++) {
            String w = DemoTask.word(r, false);
            lines.append("{\"prompt\": \"").append(DemoTask.prompt(DemoTask.Kind.SHIFT, w)).append("\", \"completion\": \"")
                    .append(DemoTask.Kind.SHIFT.answer(w)).append(".\"}\n");
        }
        Path data = dir.resolve("shift.jsonl");
        Files.writeString(data, lines);
        return data;
    }
}
