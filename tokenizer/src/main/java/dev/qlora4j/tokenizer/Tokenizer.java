package dev.qlora4j.tokenizer;

import dev.qlora4j.json.Json;
import dev.qlora4j.json.JsonException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * A tokenizer read from a Hugging Face {@code tokenizer.json}: byte-level BPE (GPT-2, Llama 3) and
 * SentencePiece-style BPE with byte fallback (Llama 2).
 *
 * <p>Encoding follows the file's pipeline: added tokens are found in the raw text first, each
 * stretch between them is normalized, pre-tokenized into words and encoded word by word by the BPE
 * model; {@code addSpecial} then puts the special tokens around it. Decoding maps ids to tokens and
 * runs the file's decoder.
 *
 * <p>Immutable and safe to share between threads.
 */
public final class Tokenizer {
    static final String FILE = "tokenizer.json";

    private final String source;
    private final Bpe model;
    private final AddedTokens added;
    private final TextNormalizer normalizer;
    private final PreTokenizer preTokenizer;
    private final TokenDecoder decoder;
    private final int[] prefix;
    private final int[] suffix;
    private final int bos;
    private final int eos;
    /** Every id's token, added tokens over the model's vocabulary; null where no token has the id. */
    private final String[] tokens;
    private final boolean[] special;

    private Tokenizer(String source, Node root, TokenizerConfig config) {
        this.source = source;
        root.object();
        this.model = Bpe.from(root.get("model"));
        this.added = AddedTokens.from(root.get("added_tokens"));
        this.normalizer = TextNormalizer.from(root.get("normalizer"));
        this.preTokenizer = PreTokenizer.from(root.get("pre_tokenizer"));
        this.decoder = TokenDecoder.from(root.get("decoder"));

        // Added tokens follow the model's vocabulary (Llama 3: 128,000 + 256 reserved); an id far past
        // both counts would only make the id table huge, so it is refused like the model's own ids.
        long idLimit = model.size() + 4L * added.entries().size() + 256;
        int size = model.size();
        for (AddedTokens.Entry e : added.entries()) {
            if (e.id() >= idLimit) {
                throw root.get("added_tokens").error("token " + Node.quoteShort(e.content()) + " has id " + e.id()
                        + "; expected ids below " + idLimit + " (the vocabulary's " + model.size() + " tokens, then "
                        + added.entries().size() + " added ones, with few gaps)");
            }
            size = Math.max(size, e.id() + 1);
        }
        tokens = new String[size];
        special = new boolean[size];
        for (int id = 0; id < model.size(); id++) {
            tokens[id] = model.tokenOf(id);
        }
        for (AddedTokens.Entry e : added.entries()) {
            tokens[e.id()] = e.content();
            special[e.id()] = e.special();
        }

        PostProcessor post = PostProcessor.from(root.get("post_processor"));
        for (int[] ids : new int[][]{post.prefix(), post.suffix()}) {
            for (int id : ids) {
                if (id < 0 || id >= size || tokens[id] == null) {
                    throw root.get("post_processor").error("special token id " + id + " is not in the vocabulary; expected an id of a token");
                }
            }
        }
        String configFile = TokenizerConfig.FILE + " next to " + source;
        this.bos = config.bosToken() != null ? configToken(configFile, "bos_token", config.bosToken())
                : post.prefix().length > 0 ? post.prefix()[0] : -1;
        this.eos = config.eosToken() != null ? configToken(configFile, "eos_token", config.eosToken())
                : post.suffix().length > 0 ? post.suffix()[post.suffix().length - 1] : -1;
        // transformers rebuilds the post-processor from add_bos_token/add_eos_token when the config
        // sets them, so an explicit flag wins over the template.
        this.prefix = config.addBos() == null ? post.prefix() : config.addBos() ? new int[]{required(bos, configFile, "add_bos_token", "bos_token")} : new int[0];
        this.suffix = config.addEos() == null ? post.suffix() : config.addEos() ? new int[]{required(eos, configFile, "add_eos_token", "eos_token")} : new int[0];
    }

    private int configToken(String file, String field, String token) {
        OptionalInt id = idOf(token);
        if (id.isEmpty()) {
            throw new TokenizerException(file + ": " + field + " " + Node.quoteShort(token)
                    + " is not a token of " + source + "; expected a token of its vocabulary or added_tokens");
        }
        return id.getAsInt();
    }

    private static int required(int id, String file, String flag, String field) {
        if (id < 0) {
            throw new TokenizerException(file + ": " + flag + " is true but no " + field
                    + " is known (neither the config nor the post_processor names one); expected " + field);
        }
        return id;
    }

    /**
     * Reads a tokenizer: {@code path} is a model folder holding {@code tokenizer.json}, or the
     * tokenizer.json file itself. A {@code tokenizer_config.json} in the same folder, when there is
     * one, supplies BOS/EOS and whether to add them.
     *
     * @throws IOException         when a file cannot be read
     * @throws TokenizerException  when tokenizer.json is missing, malformed, or uses a feature this
     *                             reader does not implement (the message names file and field)
     */
    public static Tokenizer load(Path path) throws IOException {
        Path file = Files.isDirectory(path) ? path.resolve(FILE) : path;
        if (!Files.isRegularFile(file)) {
            throw new TokenizerException(Files.isDirectory(path)
                    ? "Tokenizer.load: folder " + path + " has no " + FILE + "; expected a Hugging Face model folder with one"
                    : "Tokenizer.load: " + path + " does not exist; expected a " + FILE + " file or a folder holding one");
        }
        Path folder = file.toAbsolutePath().getParent();
        TokenizerConfig config = folder == null ? TokenizerConfig.NONE : TokenizerConfig.readIfPresent(folder);
        return new Tokenizer(file.toString(), readJson(file), config);
    }

    static Node readJson(Path file) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new TokenizerException(file + ": no such file", e);
        }
        try {
            return Node.root(file.toString(), Json.parse(bytes));
        } catch (JsonException e) {
            throw new TokenizerException(file + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    /**
     * The ids of {@code text}. With {@code addSpecial}, the special tokens the tokenizer puts around
     * a text (BOS for Llama) are added, as tokenizer_config.json's {@code add_bos_token} /
     * {@code add_eos_token} say or, when it does not, as tokenizer.json's post_processor says.
     * A chat already formatted by {@link ChatTemplate} carries its own BOS: encode it without.
     *
     * @throws IllegalArgumentException when the text holds an unpaired surrogate (not Unicode
     *                                  text), or a character the vocabulary cannot express
     */
    public int[] encode(String text, boolean addSpecial) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new IllegalArgumentException("encode: unpaired surrogate U+" + Integer.toHexString(c).toUpperCase()
                        + " at index " + i + "; expected a string of Unicode characters");
            }
        }
        IntList ids = new IntList();
        if (addSpecial) {
            ids.addAll(prefix);
        }
        for (AddedTokens.Segment s : added.split(text)) {
            if (s.id() >= 0) {
                ids.add(s.id());
                continue;
            }
            String normalized = normalizer.apply(s.text());
            if (normalized.isEmpty()) {
                continue;
            }
            for (PreTokenizer.Piece word : preTokenizer.apply(new PreTokenizer.Piece(normalized, s.start() == 0))) {
                model.encode(word.text(), ids);
            }
        }
        if (addSpecial) {
            ids.addAll(suffix);
        }
        return ids.toArray();
    }

    /**
     * The text of {@code ids}. With {@code skipSpecial}, added tokens marked special (BOS, EOS,
     * chat markers) are left out.
     *
     * @throws IllegalArgumentException when an id is not the id of any token
     */
    public String decode(int[] ids, boolean skipSpecial) {
        List<String> pieces = new ArrayList<>(ids.length);
        for (int i = 0; i < ids.length; i++) {
            int id = ids[i];
            if (id < 0 || id >= tokens.length || tokens[id] == null) {
                throw new IllegalArgumentException("decode: ids[" + i + "] = " + id + " is not a token id; expected an id in [0, "
                        + tokens.length + ") that the vocabulary defines");
            }
            if (!(skipSpecial && special[id])) {
                pieces.add(tokens[id]);
            }
        }
        return decoder.decode(pieces);
    }

    /** A decoder that turns ids generated one at a time into text as soon as it is complete. */
    public StreamDecoder streamDecoder(boolean skipSpecial) {
        return new StreamDecoder(this, skipSpecial);
    }

    /**
     * The number of ids: one past the largest id of the vocabulary and the added tokens, so the
     * least number of rows an embedding matrix for this tokenizer needs.
     */
    public int vocabSize() {
        return tokens.length;
    }

    /** The id of a token, exactly as written in the vocabulary or added tokens; empty when none. */
    public OptionalInt idOf(String token) {
        AddedTokens.Entry e = added.byContent(token);
        if (e != null) {
            return OptionalInt.of(e.id());
        }
        Integer id = model.idOf(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /**
     * The token with this id as the vocabulary writes it (byte-level characters such as {@code Ġ}
     * for byte-level models, {@code ▁} for SentencePiece ones).
     *
     * @throws IllegalArgumentException when no token has this id
     */
    public String tokenOf(int id) {
        if (id < 0 || id >= tokens.length || tokens[id] == null) {
            throw new IllegalArgumentException("tokenOf: " + id + " is not a token id; expected an id in [0, "
                    + tokens.length + ") that the vocabulary defines");
        }
        return tokens[id];
    }

    /**
     * The beginning-of-sequence token: tokenizer_config.json's {@code bos_token}, else the first
     * special token the post_processor puts before the text; empty when neither names one.
     */
    public OptionalInt bosId() {
        return bos < 0 ? OptionalInt.empty() : OptionalInt.of(bos);
    }

    /**
     * The end-of-sequence token: tokenizer_config.json's {@code eos_token}, else the last special
     * token the post_processor puts after the text; empty when neither names one (generation then
     * needs its stop token from elsewhere).
     */
    public OptionalInt eosId() {
        return eos < 0 ? OptionalInt.empty() : OptionalInt.of(eos);
    }

    /** Whether {@code id} is an added token marked special. */
    public boolean isSpecial(int id) {
        return id >= 0 && id < special.length && special[id];
    }

    @Override
    public String toString() {
        return "Tokenizer[" + source + ", " + tokens.length + " ids]";
    }
}
