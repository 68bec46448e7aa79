package dev.qlora4j.cli;

import dev.qlora4j.autograd.AdamW;
import dev.qlora4j.autograd.llama.BaseFormat;
import dev.qlora4j.autograd.llama.LlamaModel;
import dev.qlora4j.autograd.llama.PeftAdapter;
import dev.qlora4j.autograd.llama.Trainer;
import dev.qlora4j.engine.Device;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * {@code qlora4j demo}: QLoRA end to end in a few minutes on a CPU or a GPU — a base model trained on one task,
 * frozen in NF4 with double quantization, a LoRA adapter fine-tuned on a task the base cannot do,
 * accuracy before and after, the base task untouched with the adapter off, the adapter saved in
 * PEFT's format.
 */
final class DemoCommand implements Command {
    @Override
    public String name() {
        return "demo";
    }

    @Override
    public String summary() {
        return "QLoRA end to end on a small model: train a base, quantize it to NF4, fine-tune a LoRA adapter";
    }

    @Override
    public String usage() {
        return """
                usage: qlora4j demo [--out DIR] [--base-steps N] [--steps N] [--rank R] [--alpha A]
                                    [--targets q_proj,v_proj|all-linear] [--eval N] [--seed S]
                                    %s

                1. trains a 2-layer Llama-architecture model (d 128) to copy words: C:fadceb>fadceb.
                2. freezes it in NF4 with double quantization, printing its memory in F32, BF16, INT8, NF4
                   and NF4 + double quant as allocated;
                3. attaches LoRA and fine-tunes it to shift every letter (S:fadceb>gbedfc.), printing
                   exact-match accuracy on held-out words before and after, and the copy task's accuracy
                   with the adapter disabled;
                4. saves the adapter in PEFT's format under DIR/adapter (the base under DIR/base) and
                   prints a sample with and without it.
                Defaults: --out demo-out --base-steps 200 --steps 200 --rank 8 --alpha 16
                --targets q_proj,v_proj --eval 200 --seed 1.
                Every step runs on --device: the base's training, the memory measured (bytes allocated
                there), fine-tuning and the accuracies.
                %s""".formatted(DeviceOption.SYNOPSIS, DeviceOption.HELP);
    }

    @Override
    public int run(List<String> argList, PrintStream out) throws Exception {
        Args args = Args.parse("demo", argList,
                Set.of("--out", "--base-steps", "--steps", "--rank", "--alpha", "--targets", "--eval", "--seed", DeviceOption.NAME),
                Set.of());
        if (!args.positionals().isEmpty()) {
            throw new UsageException("unexpected argument(s) " + args.positionals());
        }
        Path dir = Path.of(args.get("--out", "demo-out"));
        int baseSteps = args.getInt("--base-steps", 200, 1);
        int steps = args.getInt("--steps", 200, 1);
        int rank = args.getInt("--rank", 8, 1);
        float alpha = (float) args.getDouble("--alpha", 16);
        Set<String> targets = Targets.parse(args.get("--targets", "q_proj,v_proj"));
        int evalCount = args.getInt("--eval", 200, 1);
        long seed = args.getInt("--seed", 1);
        Device device = DeviceOption.parse(args);
        List<String> heldOut = DemoTask.heldOutWords(evalCount, seed + 100);

        out.printf("qlora4j demo: QLoRA on a %d-layer Llama-architecture model (d %d, %d heads, %d key/value heads), "
                        + "%s%n%n", DemoModel.CONFIG.layers(), DemoModel.CONFIG.hiddenSize(),
                DemoModel.CONFIG.heads(), DemoModel.CONFIG.kvHeads(),
                device.equals(Device.CPU) ? "CPU, " + Device.cpuThreads() + " threads" : device);

        out.println("1. Base model: trained in F32 to copy words, e.g. " + DemoTask.example(DemoTask.Kind.COPY, "fadceb"));
        Path base = dir.resolve("base");
        try (LlamaModel trained = DemoModel.trainBase(baseSteps, seed, device, new ProgressBar(out, "   base", baseSteps))) {
            out.printf("   copy accuracy on %d held-out words: %s%n", heldOut.size(),
                    percent(DemoTask.accuracy(trained, DemoTask.Kind.COPY, heldOut)));
            trained.saveHf(base);
            DemoTokenizer.write(base);
        }
        out.println("   saved as a Hugging Face folder: " + base);

        out.println();
        out.println("2. Base frozen and quantized. Memory, measured as "
                + (device.equals(Device.CPU) ? "native bytes allocated" : "bytes allocated on " + device)
                + " by loading it in each format:");
        out.printf("   %-22s %14s %16s %14s%n", "format", "whole model", "linear weights", "bits/weight");
        long linearParams = DemoModel.CONFIG.linearParameters();
        for (FormatFootprint f : FormatFootprint.measure(device, format -> LlamaModel.load(base, format))) {
            out.printf("   %-22s %14s %16s %14.3f%n", f.name(), String.format("%,d B", f.allocated()),
                    String.format("%,d B", f.linearBytes()), f.linearBytes() * 8.0 / linearParams);
        }
        out.println("   (whole model: blocks as allocated, code maps shared, embeddings and head included — BF16 but under");
        out.println("   F32 —, norms in F32; linear weights: exact bytes with quantization state, per weight. NF4 + double");
        out.println("   quant reaches 4.127 bits at 4096x4096 — ./qlora4j memory; at this size the code maps still weigh.)");

        out.println();
        try (LlamaModel model = LlamaModel.load(base, BaseFormat.NF4)) {
            model.to(device);
            double copyBefore = DemoTask.accuracy(model, DemoTask.Kind.COPY, heldOut);
            double shiftBefore = DemoTask.accuracy(model, DemoTask.Kind.SHIFT, heldOut);
            model.attachLora(targets, rank, alpha, false, seed + 2);
            long trainable = model.trainableParameters().stream().mapToLong(v -> v.value().numel()).sum();
            out.printf("3. LoRA r = %d, alpha = %s on %s: %,d trainable parameters (%.2f%% of %,d), fine-tuned to shift letters, "
                            + "e.g. %s%n", rank, trim(alpha), String.join(", ", Targets.ordered(targets)), trainable,
                    100.0 * trainable / DemoModel.CONFIG.parameters(), DemoModel.CONFIG.parameters(),
                    DemoTask.example(DemoTask.Kind.SHIFT, "fadceb"));
            out.printf("   shift accuracy before: %s%n", percent(shiftBefore));
            SplittableRandom data = new SplittableRandom(seed + 3);
            ProgressBar bar = new ProgressBar(out, "   LoRA", steps);
            try (Trainer trainer = new Trainer(model, AdamW.withDefaults(),
                    new Trainer.Schedule(1e-2f, Math.min(20, steps / 4), steps, 1.0))) {
                for (int s = 1; s <= steps; s++) {
                    float loss = DemoModel.step(trainer, DemoTask.Kind.SHIFT, data);
                    bar.update(s, DemoModel.status(loss, s, bar));
                }
            }
            double shiftAfter = DemoTask.accuracy(model, DemoTask.Kind.SHIFT, heldOut);
            model.setAdaptersEnabled(false);
            double copyOff = DemoTask.accuracy(model, DemoTask.Kind.COPY, heldOut);
            model.setAdaptersEnabled(true);
            out.printf("   shift accuracy after:  %s (%d held-out words, exact match)%n", percent(shiftAfter), heldOut.size());
            out.printf("   copy accuracy, adapter disabled: %s (before fine-tuning: %s)%s%n", percent(copyOff),
                    percent(copyBefore), copyOff == copyBefore ? " — unchanged" : " — CHANGED");

            out.println();
            Path adapter = dir.resolve("adapter");
            PeftAdapter.save(adapter, model, base.toAbsolutePath().toString());
            out.println("4. Adapter saved in PEFT's format: " + adapter + " (adapter_config.json, adapter_model.safetensors)");
            String word = heldOut.get(0);
            String with = DemoTask.complete(model, DemoTask.Kind.SHIFT, List.of(word)).get(0);
            model.setAdaptersEnabled(false);
            String without = DemoTask.complete(model, DemoTask.Kind.SHIFT, List.of(word)).get(0);
            out.printf("   sample: %s  with the adapter -> %s   without -> %s%n", DemoTask.prompt(DemoTask.Kind.SHIFT, word),
                    with, without);
            // The same greedy decoding of the same number of tokens as the sample above, so it prints that sample.
            out.printf("   try: ./qlora4j generate --model %s --adapter %s --prompt '%s' --temperature 0 --max-tokens %d%n",
                    base, adapter, DemoTask.prompt(DemoTask.Kind.SHIFT, word), DemoTask.LENGTH - DemoTask.PROMPT);
            return copyOff == copyBefore ? 0 : 1;
        }
    }

    static String percent(double share) {
        return String.format("%.1f%%", 100 * share);
    }

    static String trim(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }
}
