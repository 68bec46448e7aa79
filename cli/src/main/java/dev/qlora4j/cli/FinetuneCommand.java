package dev.qlora4j.cli;

import dev.qlora4j.autograd.AdamW;
import dev.qlora4j.autograd.llama.BaseFormat;
import dev.qlora4j.autograd.llama.LlamaConfig;
import dev.qlora4j.autograd.llama.LlamaModel;
import dev.qlora4j.autograd.llama.PeftAdapter;
import dev.qlora4j.autograd.llama.Trainer;
import dev.qlora4j.autograd.llama.TrainingCheckpoint;
import dev.qlora4j.engine.Allocator;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.tokenizer.ChatTemplate;
import dev.qlora4j.tokenizer.Tokenizer;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * {@code qlora4j finetune}: QLoRA on a Hugging Face Llama-architecture folder — the base quantized as it
 * is read, LoRA on the targets, AdamW with warmup and cosine decay — with a progress bar, resumable
 * checkpoints, and the adapter written in PEFT's format.
 */
final class FinetuneCommand implements Command {
    @Override
    public String name() {
        return "finetune";
    }

    @Override
    public String summary() {
        return "fine-tune a LoRA adapter on a Llama-architecture folder (QLoRA: NF4 base), PEFT output";
    }

    @Override
    public String usage() {
        return """
                usage: qlora4j finetune --model DIR --data FILE.jsonl|FILE.txt --out DIR
                                        [--targets q_proj,v_proj|all-linear] [--rank 8] [--alpha 16] [--rslora]
                                        [--steps N | --epochs N] [--batch 4] [--seq 256] [--lr 2e-4] [--warmup N]
                                        [--clip 1.0] [--save-every 100] [--keep-checkpoints 3] [--resume | --overwrite]
                                        [--seed 0]
                                        [--allow-long-context] [--gradient-checkpointing | --no-gradient-checkpointing]
                                        [--offload-checkpoints] [--checkpoint-dtype f32|bf16] [--loss-chunk MIB]
                                        [--base-format nf4|nf4-no-dq|fp4|int8|bf16|f32]
                                        %s

                Data: .txt is one text cut into windows of --seq tokens; .jsonl has one object per line with
                "text", or "prompt" + "completion" (loss on the completion), or "messages" [{"role","content"}]
                in the model's chat template (loss on the last message). Checkpoints (adapter, AdamW state,
                step) go to OUT/checkpoints every --save-every steps, of which the newest --keep-checkpoints and
                the one at the lowest loss are kept (others removed once the new one is complete); --resume
                continues from the newest and reaches the same weights as an uninterrupted run. The adapter is written to OUT
                (adapter_config.json, adapter_model.safetensors), loadable by PEFT and by generate --adapter.
                The base, the adapters and the optimizer's state live on --device; checkpoints and the
                adapter are written from there.
                OUT is locked for the run (a second run on it is refused, with the first one's PID); an OUT holding
                another run's checkpoints or adapter is refused unless --resume (which checks that rank, targets and
                base model are this run's) or --overwrite (which removes them first).
                A --seq longer than the model's max_position_embeddings is refused unless --allow-long-context.
                Gradient checkpointing keeps each decoder layer's input only and recomputes the layer in the
                backward pass: most of the activations' memory saved for about a third more compute, the same
                gradients bit for bit. On by default for models of hidden size %d and up (about 1B parameters).
                --offload-checkpoints keeps those layer inputs in host memory under a GPU; --checkpoint-dtype bf16
                keeps them in BF16 (half the bytes; each layer recomputed from its rounded input). --loss-chunk: MiB of
                F32 logits the loss computes at once (default 32). The run ends with its peak memory on --device.
                Defaults: --epochs 1, warmup 5%% of the steps.
                %s""".formatted(DeviceOption.SYNOPSIS, CHECKPOINTING_FROM_HIDDEN, DeviceOption.HELP);
    }

    /** The hidden size from which finetune checkpoints activations unless told not to. */
    static final int CHECKPOINTING_FROM_HIDDEN = 2048;

    @Override
    public int run(List<String> argList, PrintStream out) throws Exception {
        Args args = Args.parse("finetune", argList, Set.of("--model", "--data", "--out", "--targets", "--rank", "--alpha",
                "--steps", "--epochs", "--batch", "--seq", "--lr", "--warmup", "--clip", "--save-every", "--keep-checkpoints",
                "--seed", "--base-format", "--loss-chunk", "--checkpoint-dtype",
                DeviceOption.NAME),
                Set.of("--resume", "--overwrite", "--rslora", "--allow-long-context", "--gradient-checkpointing",
                        "--no-gradient-checkpointing", "--offload-checkpoints"));
        if (!args.positionals().isEmpty()) {
            throw new UsageException("unexpected argument(s) " + args.positionals());
        }
        if (!args.has("--model") || !args.has("--data") || !args.has("--out")) {
            throw new UsageException("--model DIR, --data FILE and --out DIR are required");
        }
        if (args.has("--gradient-checkpointing") && args.has("--no-gradient-checkpointing")) {
            throw new UsageException("--gradient-checkpointing and --no-gradient-checkpointing: give one");
        }
        if (args.has("--offload-checkpoints") && args.has("--no-gradient-checkpointing")) {
            throw new UsageException("--offload-checkpoints: there is nothing to offload with --no-gradient-checkpointing");
        }
        long lossChunk = (long) args.getInt("--loss-chunk", (int) (LlamaModel.LOSS_CHUNK_BYTES >> 20), 1) << 20;
        if (args.has("--steps") && args.has("--epochs")) {
            throw new UsageException("give --steps or --epochs, not both");
        }
        Path modelDir = Path.of(args.get("--model", null));
        Path outDir = Path.of(args.get("--out", null));
        Set<String> targets = Targets.parse(args.get("--targets", "q_proj,v_proj"));
        int rank = args.getInt("--rank", 8, 1);
        float alpha = (float) args.getDouble("--alpha", 16);
        int batch = args.getInt("--batch", 4, 1);
        int seq = args.getInt("--seq", 256, 2);
        double lr = args.getDouble("--lr", 2e-4);
        double clip = args.getDouble("--clip", 1.0);
        int saveEvery = args.getInt("--save-every", 100, 1);
        int keep = args.getInt("--keep-checkpoints", 3, 1);
        long seed = args.getInt("--seed", 0);
        BaseFormat format = GenerateCommand.baseFormat(args);
        if (!(lr > 0) || !(clip >= 0)) {
            throw new UsageException("--lr " + lr + " --clip " + clip + ": expected lr > 0 and clip >= 0");
        }
        Device device = DeviceOption.parse(args);
        if (!Files.isDirectory(modelDir)) {
            throw new IllegalArgumentException(modelDir + ": no such folder; expected a Hugging Face model folder");
        }
        // The rank is checked against the model's shapes before anything is read or locked.
        LlamaConfig.read(modelDir).checkLoraRank(targets, rank);

        Tokenizer tokenizer = Tokenizer.load(modelDir);
        FinetuneData data = FinetuneData.read(Path.of(args.get("--data", null)), tokenizer, ChatTemplate.detect(modelDir), seq);
        int steps = args.has("--steps") ? args.getInt("--steps", 1, 1) : data.stepsFor(args.getInt("--epochs", 1, 1), batch);
        int warmup = args.getInt("--warmup", steps / 20, 0);
        Path checkpoints = outDir.resolve("checkpoints");
        out.println("device: " + device);
        out.printf("fine-tuning %s (%s base) on %,d examples: LoRA r = %d, alpha = %s%s on %s, %d steps of %d%n", modelDir,
                format.label(), data.examples().size(), rank, DemoCommand.trim(alpha), args.has("--rslora") ? " (rsLoRA)" : "",
                String.join(",", Targets.ordered(targets)), steps, batch);
        try (OutputFolder held = OutputFolder.lock(outDir)) {
            if (args.has("--resume")) {
                OutputFolder.checkResumable(checkpoints, rank, targets, modelDir);
            } else {
                OutputFolder.prepareForNewRun(outDir, checkpoints, args.has("--overwrite"));
                OutputFolder.recordRun(checkpoints, modelDir, rank, targets);
            }
            Allocator memory = device.allocator();
            long before = memory.stats().live();
            memory.resetPeak();
            train(args, out, modelDir, outDir, checkpoints, data, targets, rank, alpha, batch, lr, clip, saveEvery, keep,
                    seed, format, device, steps, warmup, lossChunk);
            out.printf("peak memory on %s: %s (model, adapters, optimizer state and the step, as allocated)%n",
                    DeviceOption.where(device), Bytes.format(memory.stats().peak() - before));
        }
        out.println("adapter written to " + outDir + " (adapter_config.json, adapter_model.safetensors)");
        return 0;
    }

    private static void train(Args args, PrintStream out, Path modelDir, Path outDir, Path checkpoints, FinetuneData data,
                              Set<String> targets, int rank, float alpha, int batch, double lr, double clip, int saveEvery,
                              int keep, long seed, BaseFormat format, Device device, int steps, int warmup, long lossChunk)
            throws Exception {
        try (LlamaModel model = ModelLoader.load(modelDir, format, device)) {
            model.allowLongerContext(args.has("--allow-long-context"));
            model.setGradientCheckpointing(args.has("--gradient-checkpointing")
                    || (!args.has("--no-gradient-checkpointing") && model.config().hiddenSize() >= CHECKPOINTING_FROM_HIDDEN));
            if (model.gradientCheckpointing()) {
                out.println("gradient checkpointing: on (each layer recomputed in backward; --no-gradient-checkpointing to turn "
                        + "it off)" + (args.has("--offload-checkpoints") ? ", layer inputs kept in host memory" : ""));
            }
            model.setCheckpointOffload(args.has("--offload-checkpoints"));
            model.setCheckpointType(MemoryCommand.bf16Checkpoints(args, model.gradientCheckpointing()) ? DType.BF16 : DType.F32);
            model.setLossChunkBytes(lossChunk);
            model.to(device);
            model.attachLora(targets, rank, alpha, args.has("--rslora"), seed);
            try (Trainer trainer = new Trainer(model, AdamW.withDefaults(), new Trainer.Schedule((float) lr, warmup, steps, clip))) {
                if (args.has("--resume")) {
                    TrainingCheckpoint.State state = TrainingCheckpoint.resume(checkpoints, model, trainer.optimizer());
                    if (state.rngState() != seed) {
                        throw new IllegalArgumentException(checkpoints + ": the checkpoint was made with --seed " + state.rngState()
                                + ", this run has --seed " + seed + "; expected the same data order to resume");
                    }
                    trainer.resumeAt((int) state.step());
                    out.printf("resumed from step %d%n", state.step());
                } else {
                    Files.createDirectories(checkpoints);
                }
                ProgressBar bar = new ProgressBar(out, "train", steps);
                long tokens = 0;
                int first = trainer.stepsTaken();
                for (int s = first; s < steps; s++) {
                    Tensor[] b = data.batch(s, batch, seed);
                    float loss;
                    try {
                        loss = trainer.step(b[0], b[1]);
                        tokens += b[0].numel();
                    } finally {
                        b[0].close();
                        b[1].close();
                    }
                    bar.update(s + 1, String.format("loss %.4f  %,.0f tok/s", loss, tokens / Math.max(1e-9, bar.elapsedSeconds())));
                    if ((s + 1) % saveEvery == 0 && s + 1 < steps) {
                        TrainingCheckpoint.save(checkpoints, model, trainer.optimizer(), s + 1, seed);
                        CheckpointPruning.afterSave(checkpoints, s + 1, loss, keep);
                    }
                }
            }
            PeftAdapter.save(outDir, model, modelDir.toAbsolutePath().toString());
        }
    }
}
