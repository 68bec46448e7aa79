package dev.qlora4j.cli;

import dev.qlora4j.autograd.llama.LlamaConfig;
import dev.qlora4j.engine.Device;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

/**
 * {@link StepPeakTest} on the CPU, with two layers of Llama 3.1 8B (hidden 4096, 32/8 heads, MLP
 * 14336, vocab 128256) at {@code qlora4j.memory.tokens} tokens: 256 by default, which keeps the test
 * to a minute; 2048, the 8B goal's sequence, on demand.
 */
class CpuStepPeakTest extends StepPeakTest {
    @Override
    Device device() {
        return Device.CPU;
    }

    @Test
    void theCountedPeakIsTheMeasuredOneWithinFivePercent() {
        List<Shape> shapes = new ArrayList<>(common());
        LlamaConfig c = LlamaConfig.LLAMA31_8B;
        LlamaConfig twoOf8b = new LlamaConfig(c.hiddenSize(), 2, c.heads(), c.kvHeads(), c.intermediateSize(), c.vocabSize(),
                c.rmsEps(), c.tiedEmbeddings(), c.headDim(), c.rotary(), c.maxPositions(), c.qkvBias(), c.outputBias(),
                c.mlpBias(), c.slidingWindow());
        shapes.add(new Shape("demo 4 x 200, all, checkpointed", DemoModel.CONFIG, ALL, 8, 4, 200, options(true, false)));
        int tokens = Integer.getInteger("qlora4j.memory.tokens", 256);
        shapes.add(new Shape("2 layers of Llama 3.1 8B, 1 x " + tokens + ", all, r 16, checkpointed", twoOf8b, ALL, 16, 1, tokens,
                options(true, false)));
        check(shapes);
    }
}
