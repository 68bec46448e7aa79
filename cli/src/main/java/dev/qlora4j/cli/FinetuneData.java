package dev.qlora4j.cli;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.json.Json;
import dev.qlora4j.tokenizer.ChatTemplate;
import dev.qlora4j.tokenizer.Message;
import dev.qlora4j.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Fine-tuning examples read from a file and tokenized: a {@code .txt} file is one long text cut into
 * windows of the sequence length; a {@code .jsonl} file holds one JSON object per line with
 * {@code "text"} (loss on all of it), {@code "prompt"} and {@code "completion"} (loss on the
 * completion only), or {@code "messages"} (a chat in the model's template; loss on the last message).
 */
final class FinetuneData {
    /** Token ids and the index of the first token whose prediction counts in the loss. */
    record Example(int[] ids, int lossFrom) {
    }

    private final List<Example> examples;
    /** The shuffled order of one epoch and seed, kept so each step does not reshuffle the epoch again. */
    private int[] order;
    private long orderEpoch = -1;
    private long orderSeed;

    private FinetuneData(List<Example> examples) {
        this.examples = examples;
    }

    List<Example> examples() {
        return examples;
    }

    static FinetuneData read(Path file, Tokenizer tokenizer, ChatTemplate template, int seq) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(file + ": no such file; expected a .jsonl or .txt data file");
        }
        List<Example> out = new ArrayList<>();
        String name = file.getFileName().toString();
        if (name.endsWith(".txt")) {
            int[] ids = tokenizer.encode(utf8(file), true);
            for (int start = 0; start + 1 < ids.length; start += seq) {
                out.add(new Example(java.util.Arrays.copyOfRange(ids, start, Math.min(ids.length, start + seq + 1)), 0));
            }
        } else if (name.endsWith(".jsonl")) {
            List<String> lines = utf8(file).lines().toList();
            for (int i = 0; i < lines.size(); i++) {
                if (!lines.get(i).isBlank()) {
                    out.add(example(lines.get(i), file, i + 1, tokenizer, template, seq));
                }
            }
        } else {
            throw new IllegalArgumentException(file + ": unknown data format; expected a .jsonl or .txt file");
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(file + ": no training examples (an example needs at least two tokens)");
        }
        return new FinetuneData(out);
    }

    /** The file's text, or an error naming the first byte that is not UTF-8 (a binary file given by mistake). */
    private static String utf8(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(bytes);
        try {
            return java.nio.charset.StandardCharsets.UTF_8.newDecoder().decode(in).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            int at = in.position();
            throw new IllegalArgumentException(file + ": not UTF-8 text: byte " + at + " is 0x"
                    + String.format("%02x", bytes[at] & 0xff) + "; expected a UTF-8 .jsonl or .txt data file");
        }
    }

    private static Example example(String line, Path file, int lineNo, Tokenizer tokenizer, ChatTemplate template, int seq) {
        Object parsed;
        try {
            parsed = Json.parse(line);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(file + " line " + lineNo + ": not JSON (" + e.getMessage() + ")");
        }
        if (!(parsed instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException(file + " line " + lineNo + ": expected a JSON object");
        }
        String prompt;
        String completion;
        boolean chat = false;
        if (m.get("text") instanceof String t) {
            prompt = "";
            completion = t;
        } else if (m.get("prompt") instanceof String p && m.get("completion") instanceof String c) {
            prompt = p;
            completion = c;
        } else if (m.get("messages") instanceof List<?> list && !list.isEmpty()) {
            List<Message> messages = new ArrayList<>();
            for (Object o : list) {
                if (!(o instanceof Map<?, ?> msg) || !(msg.get("role") instanceof String role) || !(msg.get("content") instanceof String content)) {
                    throw new IllegalArgumentException(file + " line " + lineNo + ": each message needs \"role\" and \"content\" strings");
                }
                messages.add(new Message(role, content));
            }
            // The prompt is the chat up to the last message's header; the completion is what the full
            // chat adds after it, end-of-turn marker included, so the model learns to stop.
            prompt = template.format(messages.subList(0, messages.size() - 1), true);
            String full = template.format(messages, false);
            if (!full.startsWith(prompt)) {
                throw new IllegalArgumentException(file + " line " + lineNo + ": the " + template
                        + " chat template does not end the prompt where the last message begins");
            }
            completion = full.substring(prompt.length());
            chat = true;
        } else {
            throw new IllegalArgumentException(file + " line " + lineNo + ": expected \"text\", \"prompt\" and \"completion\", or \"messages\"");
        }
        int[] p = prompt.isEmpty() ? new int[0] : tokenizer.encode(prompt, !chat);
        int[] c = tokenizer.encode(completion, prompt.isEmpty() && !chat);
        int[] ids = new int[Math.min(seq + 1, p.length + c.length)];
        System.arraycopy(p, 0, ids, 0, Math.min(p.length, ids.length));
        if (ids.length > p.length) {
            System.arraycopy(c, 0, ids, p.length, ids.length - p.length);
        }
        if (ids.length < 2 || p.length >= ids.length) {
            throw new IllegalArgumentException(file + " line " + lineNo + ": " + ids.length + " tokens after truncation to --seq "
                    + seq + ", none of them to learn; expected a completion within the sequence length");
        }
        return new Example(ids, Math.max(0, p.length - 1));
    }

    /** The examples' order in {@code epoch}: a Fisher–Yates shuffle seeded by the run's seed and the epoch. */
    private int[] order(long epoch, long seed) {
        if (epoch != orderEpoch || seed != orderSeed) {
            order = new int[examples.size()];
            for (int i = 0; i < order.length; i++) {
                order[i] = i;
            }
            SplittableRandom r = new SplittableRandom(seed * 1_000_003L + epoch);
            for (int i = order.length - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            orderEpoch = epoch;
            orderSeed = seed;
        }
        return order;
    }

    /** Optimizer steps in {@code epochs} passes at {@code batch} examples a step. */
    int stepsFor(int epochs, int batch) {
        return epochs * ((examples.size() + batch - 1) / batch);
    }

    /**
     * The batch of step {@code step}: examples in an order reshuffled every epoch from {@code seed}, so
     * a resumed run sees what an uninterrupted one would. Ids [B, T] padded with 0, targets [B·T] with
     * -100 on padding and on prompt tokens.
     */
    Tensor[] batch(long step, int batch, long seed) {
        int perEpoch = (examples.size() + batch - 1) / batch;
        int[] order = order(step / perEpoch, seed);
        int first = (int) (step % perEpoch) * batch;
        List<Example> chosen = new ArrayList<>();
        for (int i = first; i < Math.min(first + batch, order.length); i++) {
            chosen.add(examples.get(order[i]));
        }
        int t = 0;
        for (Example e : chosen) {
            t = Math.max(t, e.ids().length - 1);
        }
        float[] ids = new float[chosen.size() * t];
        float[] targets = new float[ids.length];
        java.util.Arrays.fill(targets, -100);
        for (int b = 0; b < chosen.size(); b++) {
            Example e = chosen.get(b);
            for (int i = 0; i + 1 < e.ids().length; i++) {
                ids[b * t + i] = e.ids()[i];
                if (i >= e.lossFrom()) {
                    targets[b * t + i] = e.ids()[i + 1];
                }
            }
        }
        return new Tensor[]{Tensor.of(DType.I32, ids, chosen.size(), t), Tensor.of(DType.I32, targets, ids.length)};
    }
}
