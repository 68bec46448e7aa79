package dev.qlora4j.cli;

import dev.qlora4j.autograd.llama.BaseFormat;
import dev.qlora4j.autograd.llama.LlamaModel;
import dev.qlora4j.autograd.llama.MergedCheckpoint;
import dev.qlora4j.autograd.llama.PeftAdapter;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Device;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** {@code qlora4j merge}: base + PEFT adapter written as one Hugging Face model for serving elsewhere. */
final class MergeCommand implements Command {
    @Override
    public String name() {
        return "merge";
    }

    @Override
    public String summary() {
        return "merge a LoRA adapter into its base and write one Hugging Face model folder";
    }

    @Override
    public String usage() {
        return """
                usage: qlora4j merge --model BASE --adapter ADAPTER --out DIR [--dtype bf16|f16|f32] [--quantize nf4]
                                     [--base-format nf4|nf4-no-dq|fp4|int8|bf16|f32]

                Loads BASE as --base-format (default nf4, the base a QLoRA adapter was trained against), loads
                the PEFT adapter, and writes DIR: every linear weight W + s·B·A computed in F32 (a quantized
                base is dequantized first, so the folder computes what base + adapter computed), written as
                --dtype (default bf16), or with --quantize nf4 quantized again to NF4 with double quantization
                in bitsandbytes' layout, which transformers loads as a 4-bit model. Safetensors are sharded at
                5 GB with model.safetensors.index.json; config.json carries torch_dtype (and the
                quantization_config); BASE's tokenizer files are copied. Prints what the written precision
                costs. DIR must not exist or be empty.""";
    }

    @Override
    public int run(List<String> argList, PrintStream out) throws Exception {
        Args args = Args.parse("merge", argList, Set.of("--model", "--adapter", "--out", "--dtype", "--quantize", "--base-format"),
                Set.of());
        if (!args.has("--model") || !args.has("--adapter") || !args.has("--out")) {
            throw new UsageException("merge needs --model BASE, --adapter ADAPTER and --out DIR");
        }
        DType dtype = switch (args.get("--dtype", "bf16").toLowerCase(Locale.ROOT)) {
            case "bf16" -> DType.BF16;
            case "f16" -> DType.F16;
            case "f32" -> DType.F32;
            default -> throw new UsageException("--dtype " + args.get("--dtype", "") + ": expected bf16, f16 or f32");
        };
        String quantize = args.get("--quantize", null);
        if (quantize != null && !quantize.equalsIgnoreCase("nf4")) {
            throw new UsageException("--quantize " + quantize + ": expected nf4");
        }
        BaseFormat format = GenerateCommand.baseFormat(args);
        Path base = Path.of(args.get("--model", null));
        Path target = Path.of(args.get("--out", null));
        try (LlamaModel model = ModelLoader.load(base, format, Device.CPU)) {
            PeftAdapter.load(Path.of(args.get("--adapter", null)), model);
            MergedCheckpoint.Report r = MergedCheckpoint.write(model, target, dtype, quantize != null, base);
            out.printf("merged %d adapted layers into the base (loaded as %s); wrote %d weights to %s (%s)%n", model.adapters().size(),
                    format.label(), r.weights(), target, String.join(", ", r.files()));
            out.printf("precision: the merge is computed in F32; writing %s changes the linear weights by at most %.3g"
                    + " of their largest value%n", quantize != null ? "NF4 + double quant" : dtype, r.relativeError());
        }
        return 0;
    }
}
