package dev.qlora4j.cli;

import dev.qlora4j.autograd.AdamW;
import dev.qlora4j.autograd.Tape;
import dev.qlora4j.autograd.Var;
import dev.qlora4j.autograd.llama.BaseFormat;
import dev.qlora4j.autograd.llama.LlamaConfig;
import dev.qlora4j.autograd.llama.LlamaModel;
import dev.qlora4j.autograd.llama.Trainer;
import dev.qlora4j.engine.Allocator;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.Scope;
import dev.qlora4j.engine.Tensor;

import java.io.PrintStream;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * {@code qlora4j memory}: a model's weights in FP32, FP16, BF16, INT8, NF4 and NF4 + double quant,
 * from the engine's own byte counts (quantization state included), beside what transformers'
 * get_memory_footprint() reports; and the memory of one QLoRA training step.
 */
final class MemoryCommand implements Command {
    /** A storage format of the linear weights and its bytes for a [rows, cols] weight. */
    private record Row(String name, BaseFormat engine, long bytesPerParamTimes8) {
        long bytes(long rows, long cols) {
            return engine != null ? engine.weightBytes(rows, cols) : rows * cols * bytesPerParamTimes8 / 8;
        }

        /** What transformers' get_memory_footprint() counts: parameters and buffers only, so 4-bit weights are n/2 bytes. */
        long transformersBytes(long rows, long cols) {
            return rows * cols * bytesPerParamTimes8 / 8;
        }
    }

    private static final List<Row> ROWS = List.of(new Row("FP32", BaseFormat.F32, 32), new Row("FP16", null, 16),
            new Row("BF16", BaseFormat.BF16, 16), new Row("INT8", BaseFormat.INT8, 8),
            new Row("NF4", BaseFormat.NF4_NO_DOUBLE_QUANT, 4), new Row("NF4 + double quant", BaseFormat.NF4, 4));

    @Override
    public String name() {
        return "memory";
    }

    @Override
    public String summary() {
        return "a model's memory in FP32 … NF4 + double quant, and what one QLoRA training step needs";
    }

    @Override
    public String usage() {
        return """
                usage: qlora4j memory [--model NAME|CONFIG.json] [--batch B] [--seq T] [--rank R]
                                      [--targets q_proj,v_proj|all-linear] [--gradient-checkpointing] %s

                The linear weights' bytes in FP32, FP16, BF16, INT8, NF4 and NF4 + double quant (block 64),
                counted as the engine stores them — absmax, nested absmax and code maps included — beside
                what transformers' get_memory_footprint() reports, which counts only the packed weights;
                for the demo model also measured as bytes allocated on --device. Then one QLoRA training step (NF4 +
                double quant base, LoRA of rank R on the targets, AdamW, batch B × sequence T): weights,
                adapters, gradients, optimizer state, activations (with --gradient-checkpointing: the layers'
                inputs, and one layer recomputed during backward) and the loss's workspace (a chunk of
                logits); measured as well for the demo.
                NAME: demo, 7b, 13b, 70b (Llama 2), llama3.1-8b, llama3.1-70b, llama3.2-1b, llama3.2-3b.
                Defaults: --model llama3.1-8b --batch 1 --seq 512 --rank 16 --targets q_proj,v_proj
                (demo: --batch 64 --seq 15).
                %s""".formatted(DeviceOption.SYNOPSIS, DeviceOption.HELP);
    }

    @Override
    public int run(List<String> argList, PrintStream out) throws Exception {
        Args args = Args.parse("memory", argList, Set.of("--model", "--batch", "--seq", "--rank", "--targets",
                DeviceOption.NAME), Set.of("--gradient-checkpointing"));
        if (!args.positionals().isEmpty()) {
            throw new UsageException("unexpected argument(s) " + args.positionals());
        }
        ModelChoice model = ModelChoice.parse(args.get("--model", "llama3.1-8b"));
        LlamaConfig c = model.config();
        int batch = args.getInt("--batch", model.isDemo() ? DemoModel.BATCH : 1, 1);
        int seq = args.getInt("--seq", model.isDemo() ? DemoTask.LENGTH - 1 : 512, 1);
        int rank = args.getInt("--rank", 16, 1);
        Set<String> targets = Targets.parse(args.get("--targets", "q_proj,v_proj"));
        c.checkLoraRank(targets, rank);
        Device device = DeviceOption.parse(args);

        out.println("device: " + device);
        out.printf("%s: %,d parameters, %,d of them in the linear layers (the rest: embeddings, norms, head)%n%n",
                model.name(), c.parameters(), c.linearParameters());
        out.printf("%-20s %14s %12s %16s %12s%n", "linear weights", "qlora4j", "bits/weight", "transformers*", "difference");
        for (Row row : ROWS) {
            long ours = 0;
            long theirs = 0;
            for (String m : LlamaModel.LINEAR_MODULES) {
                int[] s = c.linearShape(m);
                ours += row.bytes(s[0], s[1]) * c.layers();
                theirs += row.transformersBytes(s[0], s[1]) * c.layers();
            }
            out.printf("%-20s %14s %12.3f %16s %12s%n", row.name(), Bytes.format(ours), ours * 8.0 / c.linearParameters(),
                    Bytes.format(theirs), ours == theirs ? "-" : "+" + Bytes.format(ours - theirs));
        }
        out.printf("%-20s %14s (BF16; qlora4j under a quantized base: %s, the norms in F32)%n", "+ embeddings, norms",
                Bytes.format(2 * c.denseParameters()), Bytes.format(c.denseBytes(BaseFormat.NF4)));
        out.println("* get_memory_footprint() sums parameters and buffers: a 4-bit weight is n/2 packed bytes there; its");
        out.println("  absmax (F32 per block of 64, or 8-bit + F32 per 256 blocks with double quant) and code maps are");
        out.println("  held in a quant_state it does not count. INT8's per-row scales are left out the same way.");
        out.printf("  A 4096x4096 weight in NF4 + double quant: %,d bytes = %.3f bits per parameter.%n",
                BaseFormat.NF4.weightBytes(4096, 4096), BaseFormat.NF4.weightBytes(4096, 4096) * 8.0 / (4096 * 4096));

        if (model.isDemo()) {
            out.println();
            out.println("measured on " + DeviceOption.where(device)
                    + ": bytes allocated by loading the demo model (random weights) in each format");
            for (FormatFootprint f : FormatFootprint.measure(device, format -> LlamaModel.random(c, 1, format))) {
                out.printf("%-20s %14s allocated, linear weights %s%n", f.name(), String.format("%,d B", f.allocated()),
                        String.format("%,d B", f.linearBytes()));
            }
        }

        boolean checkpointing = args.has("--gradient-checkpointing");
        TrainingMemory step = TrainingMemory.of(c, BaseFormat.NF4, targets, rank, batch, seq, checkpointing);
        out.println();
        out.printf("one QLoRA training step: NF4 + double quant base, LoRA r = %d on %s, AdamW, batch %d x %d tokens%s%n",
                rank, String.join(",", Targets.ordered(targets)), batch, seq, checkpointing ? ", gradient checkpointing" : "");
        out.printf("  %-34s %12s%n", "frozen weights", Bytes.format(step.weights()));
        out.printf("  %-34s %12s  (%,d parameters)%n", "adapters (F32)", Bytes.format(step.adapters()), step.adapters() / 4);
        out.printf("  %-34s %12s%n", "adapter gradients (F32)", Bytes.format(step.gradients()));
        out.printf("  %-34s %12s%n", "AdamW moments (2 x F32)", Bytes.format(step.optimizer()));
        out.printf("  %-34s %12s%n", checkpointing ? "activations kept (layer inputs)" : "activations kept for backward",
                Bytes.format(step.activations()));
        if (checkpointing) {
            out.printf("  %-34s %12s%n", "one layer recomputed in backward", Bytes.format(step.recomputed()));
        }
        out.printf("  %-34s %12s%n", "loss workspace (a chunk of logits)", Bytes.format(step.lossWorkspace()));
        out.printf("  %-34s %12s%n", "total", Bytes.format(step.total()));
        if (model.isDemo()) {
            Measured measured = measureStep(device, c, targets, rank, batch, seq, checkpointing);
            out.printf("  measured on the demo model (random weights) on %s: %s held between steps, activations %s (%+.1f%% vs the"
                            + " count above), peak %s during the step with backward's gradients in flight%n",
                    DeviceOption.where(device), Bytes.format(measured.held()), Bytes.format(measured.activations()),
                    100.0 * (measured.activations() - step.activations()) / step.activations(), Bytes.format(measured.peak()));
        }
        return 0;
    }

    /** What one training step of the demo model held: weights and state, forward activations, the step's peak. */
    record Measured(long held, long activations, long peak) {
    }

    /** One training step with the model, its adapters and the batch on {@code device}, measured by its allocator. */
    static Measured measureStep(Device device, LlamaConfig c, Set<String> targets, int rank, int batch, int seq,
                                boolean checkpointing) {
        Allocator alloc = device.allocator();
        long base = alloc.stats().live();
        try (LlamaModel m = LlamaModel.random(c, 1, BaseFormat.NF4);
             Trainer trainer = new Trainer(m, AdamW.withDefaults(), new Trainer.Schedule(1e-3f, 0, 10, 1.0))) {
            m.to(device);
            m.attachLora(targets, rank, 2f * rank, false, 2);
            m.setGradientCheckpointing(checkpointing);
            SplittableRandom r = new SplittableRandom(3);
            float[] ids = new float[batch * seq];
            float[] next = new float[ids.length];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = r.nextInt(c.vocabSize());
                next[i] = r.nextInt(c.vocabSize());
            }
            // The batch is moved to the device too, so that "inputs" below is what it holds there.
            try (Tensor hostX = Tensor.of(DType.I32, ids, batch, seq); Tensor hostY = Tensor.of(DType.I32, next, ids.length);
                 Tensor x = hostX.to(device); Tensor y = hostY.to(device)) {
                trainer.step(x, y);   // the first step creates the optimizer's moments
                long before = alloc.stats().live();
                alloc.resetPeak();
                long activations;
                try (Scope s = Scope.open()) {
                    Var loss = m.loss(x, y, -100);
                    activations = alloc.stats().live() - before;
                    Tape.backward(loss);
                } finally {
                    m.trainableParameters().forEach(Var::zeroGrad);
                }
                long inputs = 2L * 4 * ids.length;
                return new Measured(before - base - inputs, activations, alloc.stats().peak() - base - inputs);
            }
        }
    }
}
