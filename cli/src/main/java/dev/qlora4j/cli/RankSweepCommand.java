package dev.qlora4j.cli;

import dev.qlora4j.autograd.F;
import dev.qlora4j.autograd.FrozenWeight;
import dev.qlora4j.autograd.LoraLinear;
import dev.qlora4j.autograd.Tape;
import dev.qlora4j.autograd.Var;
import dev.qlora4j.autograd.llama.BaseFormat;
import dev.qlora4j.autograd.llama.LlamaConfig;
import dev.qlora4j.autograd.llama.LlamaModel;
import dev.qlora4j.engine.Allocator;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.Scope;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.nf4.FourBitWeight;
import dev.qlora4j.nf4.QuantType;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * {@code qlora4j rank-sweep}: what the LoRA rank costs — trainable parameters and their share, for one
 * d×d layer and for a whole model — and the measured forward + backward time and peak memory per rank
 * of a layer with an NF4 base and of the demo model.
 */
final class RankSweepCommand implements Command {
    @Override
    public String name() {
        return "rank-sweep";
    }

    @Override
    public String summary() {
        return "trainable parameters, time and peak memory of LoRA per rank, for a layer and a whole model";
    }

    @Override
    public String usage() {
        return """
                usage: qlora4j rank-sweep [--model NAME|CONFIG.json] [--ranks 4,8,16,32,64]
                                          [--targets q_proj,v_proj|all-linear] [--dim D] [--tokens N] [--repeats K]
                                          %s

                For each rank r: the LoRA parameters of one DxD layer (2·D·r) and their share of its D² weights;
                the trainable parameters of the whole model with adapters on the targets and their share of all
                its parameters; then, measured on --device, the forward + backward time (median of K runs
                after a warm-up) and the peak bytes allocated for one DxD LoRA layer over an NF4 + double quant
                base on N tokens, and for one training step of the demo model (batch 64 x 15 tokens).
                NAME: demo, 7b, 13b, 70b (Llama 2), llama3.1-8b, llama3.1-70b, llama3.2-1b, llama3.2-3b.
                Defaults: --model 7b --ranks 4,8,16,32,64 --targets q_proj,v_proj --dim 4096 --tokens 512 --repeats 3.
                %s""".formatted(DeviceOption.SYNOPSIS, DeviceOption.HELP);
    }

    @Override
    public int run(List<String> argList, PrintStream out) throws Exception {
        Args args = Args.parse("rank-sweep", argList, Set.of("--model", "--ranks", "--targets", "--dim", "--tokens", "--repeats",
                DeviceOption.NAME), Set.of());
        if (!args.positionals().isEmpty()) {
            throw new UsageException("unexpected argument(s) " + args.positionals());
        }
        ModelChoice model = ModelChoice.parse(args.get("--model", "7b"));
        List<Integer> ranks = new ArrayList<>();
        for (String r : args.getList("--ranks", "4,8,16,32,64")) {
            try {
                ranks.add(Integer.parseInt(r));
            } catch (NumberFormatException e) {
                throw new UsageException("--ranks: \"" + r + "\" is not a whole number");
            }
            if (ranks.getLast() < 1) {
                throw new UsageException("--ranks: " + r + " is not a rank; expected ranks of at least 1");
            }
        }
        if (ranks.isEmpty()) {
            throw new UsageException("--ranks: expected a comma-separated list such as 4,8,16");
        }
        Set<String> targets = Targets.parse(args.get("--targets", "q_proj,v_proj"));
        int dim = args.getInt("--dim", 4096, 1);
        int tokens = args.getInt("--tokens", 512, 1);
        int repeats = args.getInt("--repeats", 3, 1);
        LlamaConfig c = model.config();
        for (int r : ranks) {
            c.checkLoraRank(targets, r);
            if (r > dim) {
                throw new IllegalArgumentException("LoRA rank " + r + " on the " + dim + "x" + dim + " layer: expected 1.." + dim);
            }
        }
        Device device = DeviceOption.parse(args);

        out.println("device: " + device);
        out.printf("LoRA parameters per rank: one %dx%d layer, and %s (%,d parameters) with adapters on %s%n%n", dim, dim,
                model.name(), c.parameters(), String.join(",", Targets.ordered(targets)));
        out.printf("%6s %14s %10s %18s %10s%n", "rank", "layer params", "of layer", "model trainable", "of model");
        for (int r : ranks) {
            long layer = 2L * dim * r;
            long trainable = c.loraParameters(targets, r);
            out.printf("%6d %,14d %9.2f%% %,18d %9.3f%%%n", r, layer, 100.0 * layer / ((double) dim * dim), trainable,
                    100.0 * trainable / c.parameters());
        }

        out.printf("%nmeasured on %s: forward + backward, median of %d%n", device.equals(Device.CPU)
                ? "the CPU, " + Device.cpuThreads() + " threads" : device, repeats);
        out.printf("%6s %22s %16s %24s %16s%n", "rank", "layer " + dim + "x" + dim + " NF4 ms", "layer peak", "demo model step ms",
                "demo step peak");
        SplittableRandom random = new SplittableRandom(1);
        // Quantized and drawn on the host, as a model's weights are loaded, then moved to the device.
        try (Tensor w = gaussian(random, dim, dim, 1 / Math.sqrt(dim));
             FourBitWeight hostQ = FourBitWeight.quantize(w, QuantType.NF4, 64, true);
             FourBitWeight q = hostQ.to(device);
             Tensor hostX = gaussian(random, tokens, dim, 1);
             Tensor x = hostX.to(device)) {
            for (int r : ranks) {
                double[] layer;
                try (LoraLinear lora = LoraLinear.create(FrozenWeight.of(q), r, 2f * r, false, LoraLinear.Init.KAIMING_UNIFORM, r)) {
                    layer = measure(device, repeats, () -> {
                        Var in = Var.leaf(x, true);
                        Tape.backward(F.sum(lora.forward(in)));
                        lora.parameters().forEach(Var::zeroGrad);
                    });
                }
                double[] demo;
                Tensor[] batch = DemoTask.batch(DemoTask.Kind.SHIFT, DemoModel.BATCH, new SplittableRandom(2));
                try (LlamaModel m = LlamaModel.random(DemoModel.CONFIG, 1, BaseFormat.NF4); Tensor ids = batch[0];
                     Tensor next = batch[1]) {
                    m.to(device);
                    m.attachLora(targets, r, 2f * r, false, 3);
                    demo = measure(device, repeats, () -> {
                        Tape.backward(m.loss(ids, next, -100));
                        m.trainableParameters().forEach(Var::zeroGrad);
                    });
                }
                out.printf("%6d %22.1f %16s %24.1f %16s%n", r, layer[0], Bytes.format((long) layer[1]), demo[0],
                        Bytes.format((long) demo[1]));
            }
        }
        return 0;
    }

    /**
     * {median ms, peak bytes on {@code device} above what was live before} of {@code repeats} runs after
     * three warm-ups (JIT; on a GPU also kernel loading and the caching allocator's first blocks).
     */
    private static double[] measure(Device device, int repeats, Runnable work) {
        Allocator alloc = device.allocator();
        for (int i = 0; i < 3; i++) {
            try (Scope s = Scope.open()) {
                work.run();
            }
        }
        device.synchronize();
        double[] ms = new double[repeats];
        long peak = 0;
        for (int i = 0; i < repeats; i++) {
            long before = alloc.stats().live();
            alloc.resetPeak();
            long t0 = System.nanoTime();
            try (Scope s = Scope.open()) {
                work.run();
            }
            device.synchronize();
            ms[i] = (System.nanoTime() - t0) / 1e6;
            peak = Math.max(peak, alloc.stats().peak() - before);
        }
        Arrays.sort(ms);
        return new double[]{ms[repeats / 2], peak};
    }

    private static Tensor gaussian(SplittableRandom r, int rows, int cols, double std) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * std);
        }
        return Tensor.of(v, rows, cols);
    }
}
