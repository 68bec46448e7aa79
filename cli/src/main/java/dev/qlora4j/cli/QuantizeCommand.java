package dev.qlora4j.cli;

import dev.qlora4j.engine.NonFinite;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.safetensors.SafetensorsFile;
import dev.qlora4j.engine.safetensors.SafetensorsWriter;
import dev.qlora4j.engine.safetensors.TensorInfo;
import dev.qlora4j.nf4.BnbCheckpoint;
import dev.qlora4j.nf4.FourBitWeight;
import dev.qlora4j.nf4.Int8Weight;
import dev.qlora4j.nf4.QuantType;
import dev.qlora4j.nf4.QuantizedWeight;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** {@code qlora4j quantize IN OUT}: bitsandbytes-format NF4/FP4/INT8 weights in a safetensors file. */
final class QuantizeCommand implements Command {
    @Override
    public String name() {
        return "quantize";
    }

    @Override
    public String summary() {
        return "quantize a .safetensors file's 2-D weights to NF4/FP4 (+double quant) or INT8, bitsandbytes layout";
    }

    @Override
    public String usage() {
        return """
                usage: qlora4j quantize IN.safetensors OUT.safetensors [--type nf4|fp4|int8] [--blocksize N]
                                        [--double-quant|--no-double-quant] [--include REGEX] [--in-place]
                                        [--allow-nonfinite]

                Quantizes every 2-D floating-point tensor whose name contains a match of REGEX (default: all)
                and copies the other tensors unchanged, in the layout transformers uses for bitsandbytes
                weights (W, W.absmax, W.quant_map, W.nested_absmax, W.nested_quant_map,
                W.quant_state.bitsandbytes__nf4). OUT is written to a temporary file and renamed; an OUT that is
                IN (by any path) is refused unless --in-place. A tensor holding NaN or ±Inf is refused, naming
                it, the first bad index and the count, unless --allow-nonfinite (bitsandbytes' own bytes).
                Defaults: --type nf4 --blocksize 64 --double-quant. Block sizes: 32, 64, ..., 4096.""";
    }

    @Override
    public int run(List<String> argList, PrintStream out) throws Exception {
        Args args = Args.parse("quantize", argList, Set.of("--type", "--blocksize", "--include"),
                Set.of("--double-quant", "--no-double-quant", "--in-place", "--allow-nonfinite"));
        if (args.positionals().size() != 2) {
            throw new UsageException("expected IN and OUT files, got " + args.positionals());
        }
        Path in = Path.of(args.positionals().get(0));
        Path target = Path.of(args.positionals().get(1));
        InputGuard.refuseOverwritingInput("quantize", in, target, args.has("--in-place"));
        String type = args.get("--type", "nf4").toLowerCase(Locale.ROOT);
        if (!type.equals("nf4") && !type.equals("fp4") && !type.equals("int8")) {
            throw new UsageException("--type " + type + ": expected nf4, fp4 or int8");
        }
        int blocksize = args.getInt("--blocksize", 64);
        if (args.has("--double-quant") && args.has("--no-double-quant")) {
            throw new UsageException("--double-quant and --no-double-quant contradict each other");
        }
        boolean doubleQuant = !args.has("--no-double-quant");
        Pattern include;
        try {
            include = Pattern.compile(args.get("--include", ""));
        } catch (PatternSyntaxException e) {
            throw new UsageException("--include: not a regular expression: " + e.getDescription());
        }
        if (!type.equals("int8")) {
            FourBitWeight.checkBlocksize("--blocksize", blocksize);
        }
        if (!Files.isRegularFile(in)) {
            throw new IllegalArgumentException(in + ": no such file");
        }
        Map<String, Tensor> output = new LinkedHashMap<>();
        long before = 0;
        long after = 0;
        long params = 0;
        int quantized = 0;
        try (SafetensorsFile file = SafetensorsFile.open(in)) {
            for (String name : file.names()) {
                TensorInfo info = file.info(name);
                boolean wanted = !args.has("--include") || include.matcher(name).find();
                // A zero-size tensor has no block to quantize: it is copied unchanged, like a norm.
                boolean quantizable = info.dtype().isFloatingPoint() && info.shape().rank() == 2 && info.shape().numel() > 0;
                if (wanted && args.has("--include") && !quantizable) {
                    throw new IllegalArgumentException("--include matches \"" + name + "\" (" + info.dtype() + " "
                            + info.shape() + "); only non-empty 2-D F32, BF16 or F16 tensors can be quantized");
                }
                try (Tensor t = file.tensor(name)) {
                    if (!(wanted && quantizable)) {
                        output.put(name, dev.qlora4j.engine.Ops.cast(t, t.dtype()));
                        continue;
                    }
                    // bitsandbytes quantizes NaN and ±Inf without a word, into bytes that decode to garbage
                    // (NaN as -absmax, a whole block poisoned): refused unless asked for.
                    NonFinite bad = NonFinite.of(t);
                    if (!bad.none() && !args.has("--allow-nonfinite")) {
                        throw new IllegalArgumentException(in + ": \"" + name + "\" holds " + bad.describe()
                                + "; quantizing it gives blocks that decode to garbage. Fix the weights, or pass"
                                + " --allow-nonfinite to write what bitsandbytes writes");
                    }
                    if (!bad.none() && doubleQuant && !type.equals("int8")) {
                        // A NaN or infinite block absmax has no place in the 8-bit nested code book.
                        throw new IllegalArgumentException(in + ": \"" + name + "\" holds " + bad.describe()
                                + "; its block scales cannot be double-quantized. Add --no-double-quant to keep them as F32");
                    }
                    try (QuantizedWeight q = type.equals("int8") ? Int8Weight.quantize(t)
                            : FourBitWeight.quantize(t, QuantType.fromJsonName(type), blocksize, doubleQuant)) {
                        output.putAll(q instanceof FourBitWeight f ? BnbCheckpoint.tensors(name, f)
                                : BnbCheckpoint.tensors(name, (Int8Weight) q));
                        before += info.byteSize();
                        after += q.footprintBytes();
                        params += info.shape().numel();
                        quantized++;
                    }
                }
            }
            SafetensorsWriter.write(target, output, Map.of("format", "pt"));
        } finally {
            output.values().forEach(Tensor::close);
        }
        out.printf("quantized %d tensor(s) to %s%s: %s -> %s (%.3f bits per parameter); wrote %s%n", quantized,
                type, type.equals("int8") ? "" : " blocksize " + blocksize + (doubleQuant ? " + double quant" : ""),
                Bytes.format(before), Bytes.format(after), params == 0 ? 0.0 : after * 8.0 / params, target);
        return 0;
    }
}
