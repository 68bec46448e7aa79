package dev.qlora4j.cli;

import dev.qlora4j.autograd.AdamW;
import dev.qlora4j.autograd.llama.BaseFormat;
import dev.qlora4j.autograd.llama.LlamaModel;
import dev.qlora4j.autograd.llama.Trainer;
import dev.qlora4j.engine.Device;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * {@code qlora4j scaling-study}: the demo's fine-tuning (letters shifted, on an NF4 base trained to
 * copy) at every rank × alpha × scaling kind, from far too small an update to far too large, with a
 * table, loss curves and conclusions drawn from the numbers.
 */
final class ScalingStudyCommand implements Command {
    private static final String DEFAULT_RANKS = "4,16,64";
    private static final String DEFAULT_ALPHAS = "1,4,16,64,256,1024,4096";

    @Override
    public String name() {
        return "scaling-study";
    }

    @Override
    public String summary() {
        return "LoRA scaling alpha/r against rsLoRA's alpha/√r: train over ranks × alphas, table, loss plot";
    }

    @Override
    public String usage() {
        return """
                usage: qlora4j scaling-study [--ranks R,R,...] [--alphas A,A,...] [--steps N] [--lr LR] [--clip C]
                                             [--targets q_proj,v_proj|all-linear] [--eval N] [--base-steps N]
                                             [--out DIR] [--seed S] %s

                Trains the demo's base (copy words) once, freezes it in NF4, then fine-tunes a fresh LoRA
                adapter on the shift task for every rank, alpha and scaling: standard LoRA multiplies the
                update by s = alpha/r, rsLoRA by s = alpha/√r. Every run starts from the same base, adapter
                initialisation and batches, so runs differ only in s. A run diverges when its loss is NaN or
                infinite or exceeds 10× its first step's, and is stopped there. A run that did not learn — final
                loss (mean of the last 5 steps) over 3× the best of its scaling and rank, or over half its first
                step's — is "slow" at an alpha up to that best one's, "too high" above it (with AdamW a too-large
                update mostly stalls near chance rather than exploding). Accuracy: exact match on held-out words.
                Writes DIR/scaling-study.md, DIR/scaling-study.csv and DIR/scaling-study.svg (loss curves, log
                scale), and prints the table and what it shows: the alphas too slow, too high or divergent, and
                the best alpha at each rank for each scaling.
                Gradient clipping is off by default (--clip 0): clipping by global norm caps exactly the
                gradient spikes that announce a too-large scaling, so it would blur the divergent regime.
                The base's training and every run, evaluation included, compute on --device.
                Defaults: --ranks %s --alphas %s --steps 80 --lr 1e-2 --clip 0
                --targets q_proj,v_proj --eval 50 --base-steps 150 --out scaling-study --seed 1.
                %s"""
                .formatted(DeviceOption.SYNOPSIS, DEFAULT_RANKS, DEFAULT_ALPHAS, DeviceOption.HELP);
    }

    @Override
    public int run(List<String> argList, PrintStream out) throws Exception {
        Args args = Args.parse(name(), argList, Set.of("--ranks", "--alphas", "--steps", "--lr", "--clip", "--targets",
                "--eval", "--base-steps", "--out", "--seed", DeviceOption.NAME), Set.of());
        if (!args.positionals().isEmpty()) {
            throw new UsageException("unexpected argument(s) " + args.positionals());
        }
        Set<String> targets = Targets.parse(args.get("--targets", "q_proj,v_proj"));
        List<Integer> ranks = ranks(args, maxRank(targets));
        List<Double> alphas = alphas(args);
        int steps = args.getInt("--steps", 80, 1);
        double lr = args.getDouble("--lr", 1e-2);
        if (!(lr > 0)) {
            throw new UsageException("--lr " + args.get("--lr", "") + ": expected a learning rate > 0");
        }
        double clip = args.getDouble("--clip", 0);
        if (!(clip >= 0)) {
            throw new UsageException("--clip " + args.get("--clip", "") + ": expected a gradient norm >= 0 (0: no clipping)");
        }
        int evalCount = args.getInt("--eval", 50, 1);
        int baseSteps = args.getInt("--base-steps", 150, 1);
        Path dir = Path.of(args.get("--out", "scaling-study"));
        long seed = args.getInt("--seed", 1);
        Device device = DeviceOption.parse(args);
        List<LoraScaling> kinds = List.of(LoraScaling.values());
        Trainer.Schedule schedule = new Trainer.Schedule((float) lr, Math.min(10, steps / 4), steps, clip);
        List<String> heldOut = DemoTask.heldOutWords(evalCount, seed + 100);

        int runCount = kinds.size() * ranks.size() * alphas.size();
        out.println("device: " + device);
        out.printf(Locale.ROOT, "qlora4j scaling-study: %d runs (%d scalings × %d ranks × %d alphas) of %d steps, LoRA on %s, "
                        + "lr %s, clip %s%n%n", runCount, kinds.size(), ranks.size(), alphas.size(), steps,
                String.join(", ", Targets.ordered(targets)), DemoCommand.trim(lr), clip == 0 ? "off" : DemoCommand.trim(clip));
        Path base = Files.createTempDirectory("qlora4j-scaling-base");
        List<ScalingRun> runs = new ArrayList<>();
        try {
            out.println("Base: the demo's model trained in F32 to copy words, saved, then loaded in NF4 for every run.");
            try (LlamaModel trained = DemoModel.trainBase(baseSteps, seed, device, new ProgressBar(out, "base ", baseSteps))) {
                trained.saveHf(base);
            }
            ProgressBar bar = new ProgressBar(out, "study", runCount * steps);
            for (LoraScaling kind : kinds) {
                for (int rank : ranks) {
                    for (double alpha : alphas) {
                        runs.add(train(base, device, kind, rank, alpha, targets, schedule, seed, heldOut, bar,
                                runs.size() * steps));
                    }
                }
            }
        } finally {
            deleteTree(base);
        }

        Map<ScalingRun, ScalingRegime> regimes = ScalingRegime.classify(runs);
        String table = ScalingTable.markdown(runs, regimes);
        String conclusions = ScalingConclusions.describe(runs, regimes, kinds, ranks, alphas);
        out.println();
        out.print(table);
        out.println();
        out.print(conclusions);
        String settings = String.format(Locale.ROOT, "NF4 base, shift task, LoRA on %s, %d steps, AdamW lr %s, warmup %d, "
                        + "clip %s, seed %d", String.join(", ", Targets.ordered(targets)), steps, DemoCommand.trim(lr),
                schedule.warmupSteps(), clip == 0 ? "off" : DemoCommand.trim(clip), seed);
        dev.qlora4j.engine.AtomicFiles.writeString(dir.resolve("scaling-study.md"), "# LoRA scaling study\n\n" + settings + ".\n\n" + table + "\n"
                + conclusions);
        dev.qlora4j.engine.AtomicFiles.writeString(dir.resolve("scaling-study.csv"), ScalingTable.csv(runs, regimes));
        dev.qlora4j.engine.AtomicFiles.writeString(dir.resolve("scaling-study.svg"), LossCurvePlot.svg(runs, regimes, kinds, ranks, alphas, steps,
                "LoRA scaling study: loss per step, standard (alpha/r) vs rsLoRA (alpha/√r)", settings));
        out.println();
        out.println("Wrote " + dir.resolve("scaling-study.md") + ", " + dir.resolve("scaling-study.csv") + " and "
                + dir.resolve("scaling-study.svg") + " (open it in a browser).");
        return 0;
    }

    /**
     * One fine-tuning run on a fresh NF4 copy of the base. The adapter initialisation and the batches
     * use the same seeds in every run, so runs differ only in their scaling.
     *
     * @param done steps of the whole study finished before this run, for the progress bar
     */
    private static ScalingRun train(Path base, Device device, LoraScaling kind, int rank, double alpha, Set<String> targets,
                                    Trainer.Schedule schedule, long seed, List<String> heldOut, ProgressBar bar, int done)
            throws IOException {
        try (LlamaModel model = LlamaModel.load(base, BaseFormat.NF4)) {
            model.to(device);
            model.attachLora(targets, rank, (float) alpha, kind.rsLora(), seed + 2);
            SplittableRandom data = new SplittableRandom(seed + 3);
            float[] losses = new float[schedule.totalSteps()];
            int taken = 0;
            int divergedAt = 0;
            String label = String.format(Locale.ROOT, "%s r=%d alpha=%s", kind.label, rank, DemoCommand.trim(alpha));
            try (Trainer trainer = new Trainer(model, AdamW.withDefaults(), schedule)) {
                while (taken < schedule.totalSteps() && divergedAt == 0) {
                    float loss;
                    try {
                        loss = DemoModel.step(trainer, DemoTask.Kind.SHIFT, data);
                    } catch (IllegalStateException nonFinite) {
                        // Trainer.step's only IllegalStateException: a NaN or infinite loss, refused before any update.
                        divergedAt = taken + 1;
                        break;
                    }
                    losses[taken++] = loss;
                    if (loss > ScalingRun.DIVERGENCE_FACTOR * losses[0]) {
                        divergedAt = taken;
                    }
                    bar.update(done + taken, String.format(Locale.ROOT, "%s loss %.4f", label, loss));
                }
            }
            bar.update(done + schedule.totalSteps(), label + (divergedAt > 0 ? " diverged at step " + divergedAt : ""));
            return new ScalingRun(kind, rank, alpha, java.util.Arrays.copyOf(losses, taken), divergedAt,
                    DemoTask.accuracy(model, DemoTask.Kind.SHIFT, heldOut));
        }
    }

    /** The largest rank every target layer allows: min(in, out) of the smallest. */
    private static int maxRank(Set<String> targets) {
        int max = Integer.MAX_VALUE;
        for (String t : targets) {
            int[] shape = DemoModel.CONFIG.linearShape(t);
            max = Math.min(max, Math.min(shape[0], shape[1]));
        }
        return max;
    }

    /** Distinct ranks, ascending. */
    private static List<Integer> ranks(Args args, int max) throws UsageException {
        List<String> items = args.getList("--ranks", DEFAULT_RANKS);
        if (items.isEmpty()) {
            throw new UsageException("--ranks \"" + args.get("--ranks", "") + "\": expected a comma-separated list of ranks, e.g. 4,16,64");
        }
        TreeSet<Integer> ranks = new TreeSet<>();
        for (String s : items) {
            int r;
            try {
                r = Integer.parseInt(s);
            } catch (NumberFormatException e) {
                throw new UsageException("--ranks: \"" + s + "\" is not a whole number; expected ranks such as 4,16,64");
            }
            if (r < 1 || r > max) {
                throw new UsageException("--ranks: " + r + " is out of range; expected 1.." + max
                        + " (a rank cannot exceed the smaller side of a target layer)");
            }
            ranks.add(r);
        }
        return List.copyOf(ranks);
    }

    /** Distinct alphas, ascending. */
    private static List<Double> alphas(Args args) throws UsageException {
        List<String> items = args.getList("--alphas", DEFAULT_ALPHAS);
        if (items.isEmpty()) {
            throw new UsageException("--alphas \"" + args.get("--alphas", "") + "\": expected a comma-separated list of alphas, "
                    + "e.g. 1,16,256");
        }
        TreeSet<Double> alphas = new TreeSet<>();
        for (String s : items) {
            double a;
            try {
                a = Double.parseDouble(s);
            } catch (NumberFormatException e) {
                throw new UsageException("--alphas: \"" + s + "\" is not a number; expected alphas such as 1,16,256");
            }
            if (!(a > 0) || Double.isInfinite(a)) {
                throw new UsageException("--alphas: " + s + " is out of range; expected a finite alpha > 0");
            }
            alphas.add(a);
        }
        return List.copyOf(alphas);
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
