package dev.qlora4j.cli;

import dev.qlora4j.autograd.llama.BaseFormat;
import dev.qlora4j.autograd.llama.LlamaModel;
import dev.qlora4j.autograd.llama.PeftAdapter;
import dev.qlora4j.engine.Device;
import dev.qlora4j.tokenizer.ChatTemplate;
import dev.qlora4j.tokenizer.Message;
import dev.qlora4j.tokenizer.StreamDecoder;
import dev.qlora4j.tokenizer.Tokenizer;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;

/** {@code qlora4j generate}: text from a Hugging Face Llama-architecture folder, with or without an adapter. */
final class GenerateCommand implements Command {
    @Override
    public String name() {
        return "generate";
    }

    @Override
    public String summary() {
        return "generate text from a Llama-architecture model folder, optionally with a LoRA adapter";
    }

    @Override
    public String usage() {
        return """
                usage: qlora4j generate --model DIR --prompt TEXT [--adapter DIR] [--max-tokens N]
                                        [--temperature T] [--top-p P] [--seed S] [--stop TEXT] [--chat]
                                        [--allow-long-context]
                                        [--base-format nf4|nf4-no-dq|fp4|int8|bf16|f32]
                                        %s

                Loads DIR (config.json, model.safetensors or shards, tokenizer.json), quantizing the linear
                weights to --base-format as it reads them, applies the PEFT adapter in --adapter if given,
                and streams the continuation of TEXT as tokens come. --chat wraps the prompt in the model's
                chat template (Llama 3 or Llama 2 from tokenizer_config.json, else plain text).
                Generation stops at the end-of-sequence token, at --stop, or after --max-tokens; a context
                longer than the model's max_position_embeddings is refused unless --allow-long-context.
                Temperature 0 is greedy; otherwise nucleus sampling with --top-p, reproducible with --seed.
                The model and the adapter compute on --device; only the generated text is printed, so that
                it can be piped.
                Defaults: --max-tokens 64 --temperature 0.7 --top-p 0.9 --seed 0 --base-format nf4.
                %s""".formatted(DeviceOption.SYNOPSIS, DeviceOption.HELP);
    }

    @Override
    public int run(List<String> argList, PrintStream out) throws Exception {
        Args args = Args.parse("generate", argList, Set.of("--model", "--prompt", "--adapter", "--max-tokens",
                "--temperature", "--top-p", "--seed", "--stop", "--base-format", DeviceOption.NAME), Set.of("--chat", "--allow-long-context"));
        if (!args.positionals().isEmpty()) {
            throw new UsageException("unexpected argument(s) " + args.positionals());
        }
        if (!args.has("--model") || !args.has("--prompt")) {
            throw new UsageException("--model DIR and --prompt TEXT are required");
        }
        Path dir = Path.of(args.get("--model", null));
        int maxTokens = args.getInt("--max-tokens", 64, 1);
        Sampler sampler;
        try {
            sampler = new Sampler(args.getDouble("--temperature", 0.7), args.getDouble("--top-p", 0.9), args.getInt("--seed", 0));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        BaseFormat format = baseFormat(args);
        Device device = DeviceOption.parse(args);
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(dir + ": no such folder; expected a Hugging Face model folder");
        }
        Tokenizer tokenizer = Tokenizer.load(dir);
        String prompt = args.get("--prompt", "");
        if (args.has("--chat")) {
            prompt = ChatTemplate.detect(dir).format(List.of(new Message("user", prompt)), true);
        }
        int[] context = tokenizer.encode(prompt, !args.has("--chat"));
        if (context.length == 0) {
            throw new UsageException("--prompt: encodes to no tokens; give some text");
        }
        String stop = args.get("--stop", null);
        try (LlamaModel model = ModelLoader.load(dir, format, device)) {
            model.allowLongerContext(args.has("--allow-long-context"));
            model.to(device);
            if (args.has("--adapter")) {
                PeftAdapter.load(Path.of(args.get("--adapter", null)), model);
            }
            OptionalInt eos = tokenizer.eosId();
            StreamDecoder decoder = tokenizer.streamDecoder(true);
            StringBuilder text = new StringBuilder();
            int limit = args.has("--allow-long-context") ? Integer.MAX_VALUE : model.config().maxPositions();
            if (context.length > limit) {
                throw new IllegalArgumentException("the prompt is " + context.length + " tokens, longer than the model's "
                        + "max_position_embeddings " + limit + " (--allow-long-context to extrapolate)");
            }
            out.print(args.get("--prompt", ""));
            for (int i = 0; i < maxTokens; i++) {
                if (context.length == limit) {
                    System.err.println("qlora4j: stopped at the model's max_position_embeddings " + limit
                            + " (--allow-long-context to go on)");
                    break;
                }
                int next = sampler.next(model.nextLogits(context));
                if (eos.isPresent() && next == eos.getAsInt()) {
                    break;
                }
                context = Arrays.copyOf(context, context.length + 1);
                context[context.length - 1] = next;
                String piece = decoder.next(next);
                text.append(piece);
                out.print(piece);
                out.flush();
                if (stop != null && text.indexOf(stop) >= 0) {
                    break;
                }
            }
            out.println(decoder.finish());
        }
        return 0;
    }

    static BaseFormat baseFormat(Args args) throws UsageException {
        try {
            return BaseFormat.parse(args.get("--base-format", "nf4"));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--base-format: " + e.getMessage());
        }
    }
}
