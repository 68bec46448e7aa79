package dev.qlora4j.cli;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.safetensors.SafetensorsFile;
import dev.qlora4j.engine.safetensors.SafetensorsWriter;
import dev.qlora4j.engine.safetensors.TensorInfo;
import dev.qlora4j.nf4.BnbCheckpoint;
import dev.qlora4j.nf4.FourBitWeight;
import dev.qlora4j.nf4.Int8Weight;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code qlora4j dequantize IN OUT}: bitsandbytes-format weights back to F32 or BF16. */
final class DequantizeCommand implements Command {
    @Override
    public String name() {
        return "dequantize";
    }

    @Override
    public String summary() {
        return "turn a bitsandbytes-layout .safetensors file's NF4/FP4/INT8 weights back into F32 or BF16";
    }

    @Override
    public String usage() {
        return """
                usage: qlora4j dequantize IN.safetensors OUT.safetensors [--dtype f32|bf16] [--in-place]

                Replaces each quantized weight (4-bit with its quant_state, or LLM.int8 with its SCB) by
                its dequantized values and copies every other tensor unchanged. Default dtype: f32.
                OUT is written to a temporary file and renamed; an OUT that is IN (by any path) is refused
                unless --in-place.""";
    }

    @Override
    public int run(List<String> argList, PrintStream out) throws Exception {
        Args args = Args.parse("dequantize", argList, Set.of("--dtype"), Set.of("--in-place"));
        if (args.positionals().size() != 2) {
            throw new UsageException("expected IN and OUT files, got " + args.positionals());
        }
        DType dtype = switch (args.get("--dtype", "f32")) {
            case "f32" -> DType.F32;
            case "bf16" -> DType.BF16;
            default -> throw new UsageException("--dtype " + args.get("--dtype", "") + ": expected f32 or bf16");
        };
        Path in = Path.of(args.positionals().get(0));
        Path target = Path.of(args.positionals().get(1));
        InputGuard.refuseOverwritingInput("dequantize", in, target, args.has("--in-place"));
        if (!Files.isRegularFile(in)) {
            throw new IllegalArgumentException(in + ": no such file");
        }
        Map<String, Tensor> output = new LinkedHashMap<>();
        int count = 0;
        try (SafetensorsFile file = SafetensorsFile.open(in)) {
            Set<String> consumed = new HashSet<>();
            for (String name : BnbCheckpoint.fourBitNames(file)) {
                try (FourBitWeight q = BnbCheckpoint.readFourBit(file, name)) {
                    checkQuantMap(file, name, q);
                    output.put(name, q.dequantize(dtype));
                }
                consumed.addAll(BnbCheckpoint.ownedKeys(file, name));
                count++;
            }
            for (String name : BnbCheckpoint.int8Names(file)) {
                try (Int8Weight q = BnbCheckpoint.readInt8(file, name)) {
                    output.put(name, q.dequantize(dtype));
                }
                consumed.addAll(BnbCheckpoint.ownedKeys(file, name));
                count++;
            }
            for (String name : file.names()) {
                if (!consumed.contains(name)) {
                    refuseOrphanedState(file, name);
                    try (Tensor t = file.tensor(name)) {
                        output.put(name, Ops.cast(t, t.dtype()));
                    }
                }
            }
            SafetensorsWriter.write(target, output, Map.of("format", "pt"));
        } finally {
            output.values().forEach(Tensor::close);
        }
        out.printf("dequantized %d weight(s) to %s; wrote %s%n", count, dtype, target);
        return 0;
    }

    /** The 4-bit parts bitsandbytes stores beside a weight, each of which needs the quant_state to be read. */
    private static final String[] FOUR_BIT_PARTS = {".absmax", ".quant_map", ".nested_absmax", ".nested_quant_map"};

    /**
     * Refuses a tensor left over after the quantized weights were decoded that is a part of one whose
     * description is missing: copying it as a plain tensor would write packed bytes as if they were values.
     */
    private static void refuseOrphanedState(SafetensorsFile file, String name) {
        for (String part : FOUR_BIT_PARTS) {
            if (name.endsWith(part)) {
                String weight = name.substring(0, name.length() - part.length());
                throw new IllegalArgumentException(file.path() + ": \"" + weight + "\" has \"" + name + "\" but no"
                        + " \"" + weight + ".quant_state.bitsandbytes__nf4\" (or __fp4) entry; the 4-bit weight cannot be"
                        + " decoded without it");
            }
        }
        TensorInfo info = file.info(name);
        if (info.dtype() == DType.I8 && info.shape().rank() == 2 && name.endsWith("weight")) {
            String prefix = name.substring(0, name.length() - "weight".length());
            throw new IllegalArgumentException(file.path() + ": \"" + name + "\" is an I8 weight without its \"" + prefix
                    + "SCB\" row scales; an LLM.int8 weight cannot be decoded without them");
        }
    }

    /**
     * Checks a stored quant_map against the code book of the weight's type. qlora4j decodes with the
     * code book itself; bitsandbytes reads the stored map, so a map that differs would decode
     * differently there: refused rather than silently ignored.
     */
    private static void checkQuantMap(SafetensorsFile file, String name, FourBitWeight q) {
        String key = name + ".quant_map";
        if (!file.contains(key)) {
            return;
        }
        try (Tensor map = file.tensor(key)) {
            if (map.numel() != 16) {
                throw new IllegalArgumentException(file.path() + ": \"" + key + "\" is " + map.describe()
                        + "; expected the 16 values of the " + q.type() + " code book");
            }
            for (int code = 0; code < 16; code++) {
                if (map.getFlat(code) != q.type().value(code)) {
                    throw new IllegalArgumentException(file.path() + ": \"" + key + "\" entry " + code + " is "
                            + map.getFlat(code) + ", the " + q.type() + " code book has " + q.type().value(code)
                            + "; a custom code book is not supported");
                }
            }
        }
    }
}
