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
                                      [--targets q_proj,v_proj|all-linear] [--gradient-checkpointing]
                                      [--offload-checkpoints] [--checkpoint-dtype f32|bf16] [--loss-chunk MIB] %s

                The linear weights' bytes in FP32, FP16, BF16, INT8, NF4 and NF4 + double quant (block 64),
                counted as the engine stores them — absmax, nested absmax and code maps included — beside
                what transformers' get_memory_footprint() reports, which counts only the packed weights;
                for the demo model also measured as bytes allocated on --device. Then the peak memory of one
                QLoRA training step (NF4 + double quant base, LoRA of rank R on the targets, AdamW, batch B ×
                sequence T) by part, on a GPU and on the CPU: weights, adapters, gradients, optimizer state,
                activations, backward's gradients in flight and the loss's workspace; measured as well for
                the demo.
                --gradient-checkpointing: keep each layer's input only and recompute the layer in backward.
                --offload-checkpoints: keep those inputs in host memory under a GPU (with checkpointing).
                --checkpoint-dtype bf16: keep them in BF16, half the bytes (recomputation from rounded inputs).
                --loss-chunk: MiB of F32 logits the loss computes at once (default %d).
                NAME: demo, 7b, 13b, 70b (Llama 2), llama3.1-8b, llama3.1-70b, llama3.2-1b, llama3.2-3b.
                Defaults: --model llama3.1-8b --batch 1 --seq 512 --rank 16 --targets q_proj,v_proj
                (demo: --batch 64 --seq 15).
                %s""".formatted(DeviceOption.SYNOPSIS, LlamaModel.LOSS_CHUNK_BYTES >> 20, DeviceOption.HELP);
    }

    @Override
    public int run(List<String> argList, PrintStream out) throws Exception {
        Args args = Args.parse("memory", argList, Set.of("--model", "--batch", "--seq", "--rank", "--targets",
                "--loss-chunk", "--checkpoint-dtype", DeviceOption.NAME), Set.of("--gradient-checkpointing", "--offload-checkpoints"));
        if (!args.positionals().isEmpty()) {
            throw new UsageException("unexpected argument(s) " + args.positionals());
        }
        ModelChoice model = ModelChoice.parse(args.get("--model", "llama3.1-8b"));
        LlamaConfig c = model.config();
        int batch = args.getInt("--batch", model.isDemo() ? DemoModel.BATCH : 1, 1);
        int seq = args.getInt("--seq", model.isDemo() ? DemoTask.LENGTH - 1 : 512, 1);
        if (seq > c.maxPositions()) {
            throw new UsageException("--seq " + seq + ": longer than " + model.name() + "'s context of " + c.maxPositions()
                    + " positions (max_position_embeddings)");
        }
        int rank = args.getInt("--rank", 16, 1);
        Set<String> targets = Targets.parse(args.get("--targets", "q_proj,v_proj"));
        c.checkLoraRank(targets, rank);
        Device device = DeviceOption.parse(args);
        TrainingMemory.Options options = options(args);   // refused before anything is printed

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

        TrainingMemory step = TrainingMemory.of(c, BaseFormat.NF4, targets, rank, batch, seq, options);
        out.println();
        out.printf("one QLoRA training step: NF4 + double quant base, LoRA r = %d on %s, AdamW, batch %d x %d tokens%s%s%n",
                rank, String.join(",", Targets.ordered(targets)), batch, seq,
                options.checkpointing() ? ", gradient checkpointing" : "",
                options.offload() || options.bf16Inputs() ? " (inputs" + (options.bf16Inputs() ? " in BF16" : "")
                        + (options.offload() ? " offloaded" : "") + ")" : "");
        line(out, "frozen weights", step.weights(), "");
        line(out, "adapters (F32)", step.adapters(), String.format("(%,d parameters)", step.adapters() / 4));
        line(out, "adapter gradients (F32)", step.gradients(), "");
        line(out, "AdamW moments (2 x F32)", step.optimizer(), "");
        line(out, options.checkpointing() ? "activations kept (layer inputs)" : "activations kept for backward",
                step.activations(), "");
        if (options.checkpointing()) {
            line(out, "one layer recomputed in backward", step.recomputed(), "");
        }
        line(out, "gradients in flight (a layer's MLP)", step.inFlight(), "");
        line(out, "loss workspace (chunks of logits)", step.lossWorkspace(), "");
        line(out, "peak on a GPU", step.devicePeak(), "(not the sum: backward frees and makes as it goes)");
        line(out, "+ in host memory beside it", step.host(),
                options.offload() ? "(the input embedding; the layer inputs)" : "(the input embedding)");
        line(out, "peak on the CPU (one memory)", step.cpuPeak(), "");
        if (model.isDemo()) {
            long measured = measureStep(device, c, targets, rank, batch, seq, options);
            long predicted = device.equals(Device.CPU) ? step.cpuPeak() : step.devicePeak();
            out.printf("  measured on the demo model (random weights) on %s: peak %s (%+.1f%% vs the count above)%n",
                    DeviceOption.where(device), Bytes.format(measured), 100.0 * (measured - predicted) / predicted);
        }
        return 0;
    }

    private static void line(PrintStream out, String part, long bytes, String note) {
        out.printf("  %-36s %12s%s%n", part, Bytes.format(bytes), note.isEmpty() ? "" : "  " + note);
    }

    /**
     * Whether {@code --checkpoint-dtype} asks for BF16 layer inputs (F32 by default), refusing other
     * dtypes and the flag without checkpointing. Shared with finetune.
     */
    static boolean bf16Checkpoints(Args args, boolean checkpointing) throws UsageException {
        String type = args.get("--checkpoint-dtype", "f32");
        if (!type.equals("f32") && !type.equals("bf16")) {
            throw new UsageException("--checkpoint-dtype " + type + ": expected f32 or bf16");
        }
        if (type.equals("bf16") && !checkpointing) {
            throw new UsageException("--checkpoint-dtype bf16: there are no checkpointed layer inputs without --gradient-checkpointing");
        }
        return type.equals("bf16");
    }

    /** The step's options from the command line, refusing offloading without checkpointing. */
    static TrainingMemory.Options options(Args args) throws UsageException {
        boolean checkpointing = args.has("--gradient-checkpointing");
        if (args.has("--offload-checkpoints") && !checkpointing) {
            throw new UsageException("--offload-checkpoints: there is nothing to offload without --gradient-checkpointing");
        }
        long chunk = (long) args.getInt("--loss-chunk", (int) (LlamaModel.LOSS_CHUNK_BYTES >> 20), 1) << 20;
        return new TrainingMemory.Options(checkpointing, args.has("--offload-checkpoints"), bf16Checkpoints(args, checkpointing),
                chunk);
    }

    /**
     * The peak bytes one training step allocates on {@code device} — the model, its adapters and optimizer
     * state, and the step — beyond the batch itself, measured by the device's allocator (and, on the CPU,
     * with host and device one memory). The step measured is the second, after the optimizer made its moments.
     */
    static long measureStep(Device device, LlamaConfig c, Set<String> targets, int rank, int batch, int seq,
                            TrainingMemory.Options options) {
        Allocator alloc = device.allocator();
        SplittableRandom r = new SplittableRandom(3);
        float[] ids = new float[batch * seq];
        float[] next = new float[ids.length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = r.nextInt(c.vocabSize());
            next[i] = r.nextInt(c.vocabSize());
        }
        // The batch is moved to the device first, so that it is in the base and not the step.
        try (Tensor hostX = Tensor.of(DType.I32, ids, batch, seq); Tensor hostY = Tensor.of(DType.I32, next, ids.length);
             Tensor x = hostX.to(device); Tensor y = hostY.to(device)) {
            long base = alloc.stats().live();
            try (LlamaModel m = LlamaModel.random(c, 1, BaseFormat.NF4);
                 Trainer trainer = new Trainer(m, AdamW.withDefaults(), new Trainer.Schedule(1e-3f, 0, 10, 1.0))) {
                m.to(device);
                m.attachLora(targets, rank, 2f * rank, false, 2);
                m.setGradientCheckpointing(options.checkpointing());
                m.setCheckpointOffload(options.offload());
                m.setCheckpointType(options.bf16Inputs() ? DType.BF16 : DType.F32);
                m.setLossChunkBytes(options.lossChunkBytes());
                trainer.step(x, y);   // the first step creates the optimizer's moments
                alloc.resetPeak();
                try (Scope s = Scope.open()) {
                    Tape.backward(m.loss(x, y, -100));
                } finally {
                    m.trainableParameters().forEach(Var::zeroGrad);
                }
                return alloc.stats().peak() - base;
            }
        }
    }
}
