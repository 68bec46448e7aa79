package dev.qlora4j.autograd.llama;

import dev.qlora4j.autograd.F;
import dev.qlora4j.autograd.FrozenWeight;
import dev.qlora4j.autograd.LoraLinear;
import dev.qlora4j.autograd.Tape;
import dev.qlora4j.autograd.Var;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.Scope;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.nf4.FourBitWeight;
import dev.qlora4j.nf4.Int8Weight;
import dev.qlora4j.nf4.QuantType;
import dev.qlora4j.nf4.QuantizedWeight;

import java.io.IOException;
import java.nio.file.Path;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A Llama-architecture decoder whose base weights are frozen (dense or NF4) and whose linear layers
 * can carry LoRA adapters. Weights are named as in Hugging Face checkpoints
 * ({@code model.layers.0.self_attn.q_proj.weight}, ...). Owns every tensor it holds.
 */
public final class LlamaModel implements AutoCloseable {
    /** The linear layers LoRA can target, by their Hugging Face module names. */
    public static final List<String> LINEAR_MODULES =
            List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

    /** The input embedding table's key. */
    private static final String EMBEDDING = "model.embed_tokens.weight";

    private final LlamaConfig config;
    private final Map<String, Tensor> dense = new LinkedHashMap<>();
    private final Map<String, QuantizedWeight> quantized = new LinkedHashMap<>();
    private final Map<String, LoraLinear> adapters = new LinkedHashMap<>();
    /** Base weights being fully fine-tuned, by key; empty unless {@link #enableFullFineTuning}. */
    private final Map<String, Var> trainableBase = new LinkedHashMap<>();
    private boolean longerContextAllowed;
    private boolean gradientCheckpointing;
    private boolean offloadCheckpoints;
    private DType checkpointType = DType.F32;
    private long lossChunkBytes = LOSS_CHUNK_BYTES;

    private LlamaModel(LlamaConfig config) {
        this.config = config;
    }

    /** The architecture this model was built with. */
    public LlamaConfig config() {
        return config;
    }

    /** Hugging Face's key of a linear layer's weight, e.g. {@code model.layers.3.mlp.up_proj.weight}. */
    public static String linearKey(int layer, String module) {
        String group = Set.of("q_proj", "k_proj", "v_proj", "o_proj").contains(module) ? "self_attn" : "mlp";
        return "model.layers." + layer + "." + group + "." + module + ".weight";
    }

    /**
     * A model with random weights — embeddings N(0, 1), every linear layer N(0, 1/in) so activations
     * and logits start at unit scale, norms 1 — the linear layers stored in {@code format}.
     */
    public static LlamaModel random(LlamaConfig c, long seed, BaseFormat format) {
        return random(c, seed, format, embeddingType(format));
    }

    /** {@link #random(LlamaConfig, long, BaseFormat)} with the embeddings and head held in {@code embeddings}. */
    static LlamaModel random(LlamaConfig c, long seed, BaseFormat format, DType embeddings) {
        LlamaModel m = new LlamaModel(c);
        SplittableRandom r = new SplittableRandom(seed);
        int d = c.hiddenSize();
        m.dense.put("model.embed_tokens.weight", gaussian(r, c.vocabSize(), d));
        for (int l = 0; l < c.layers(); l++) {
            m.dense.put("model.layers." + l + ".input_layernorm.weight", ones(d));
            m.dense.put("model.layers." + l + ".post_attention_layernorm.weight", ones(d));
            for (String module : LINEAR_MODULES) {
                try (Tensor w = normal(r, c.linearShape(module))) {
                    m.putLinear(linearKey(l, module), w, format);
                }
                if (c.hasBias(module)) {
                    m.dense.put(LlamaLayout.biasKey(linearKey(l, module)), biasVector(r, c.linearShape(module)[0]));
                }
            }
        }
        m.dense.put("model.norm.weight", ones(d));
        if (!c.tiedEmbeddings()) {
            m.dense.put("lm_head.weight", normal(r, c.vocabSize(), d));
        }
        m.storeEmbeddingsAs(embeddings);
        return m;
    }

    /**
     * The dtype the embedding table and the output head are held in under a base in {@code format}:
     * BF16, as bitsandbytes' quantized models and BF16 checkpoints keep them — half the bytes of F32
     * for the two largest dense weights (2 × 128,256 × 4,096 in Llama 3.1 8B: 1.96 GiB saved) — and F32
     * under an F32 base. Their products and the loss are computed in F32 either way.
     */
    public static DType embeddingType(BaseFormat format) {
        return format == BaseFormat.F32 ? DType.F32 : DType.BF16;
    }

    /** Converts the embedding table and the output head, when untied, to {@code type}. */
    void storeEmbeddingsAs(DType type) {
        for (String key : List.of("model.embed_tokens.weight", "lm_head.weight")) {
            Tensor w = dense.get(key);
            if (w != null && w.dtype() != type) {
                dense.put(key, Ops.cast(w, type));
                w.close();
            }
        }
    }

    /** N(0, 1). */
    private static Tensor gaussian(SplittableRandom r, int rows, int cols) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return Tensor.of(v, rows, cols);
    }

    /** N(0, 0.5²) biases of length n: large enough that a bias left out changes the logits. */
    private static Tensor biasVector(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextGaussian() * 0.5);
        }
        return Tensor.of(v, n);
    }

    /** N(0, 1/dims[1]): unit-scale outputs for unit-scale inputs. */
    private static Tensor normal(SplittableRandom r, int... dims) {
        float[] v = new float[dims[0] * dims[1]];
        double std = 1 / Math.sqrt(dims[1]);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * std);
        }
        return Tensor.of(v, dims);
    }

    private static Tensor ones(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return Tensor.of(v, n);
    }

    /** Stores a linear weight (any float dtype, read once) in {@code format}. */
    private void putLinear(String key, Tensor w, BaseFormat format) {
        switch (format) {
            case NF4 -> quantized.put(key, FourBitWeight.quantize(w, QuantType.NF4, 64, true));
            case NF4_NO_DOUBLE_QUANT -> quantized.put(key, FourBitWeight.quantize(w, QuantType.NF4, 64, false));
            case FP4 -> quantized.put(key, FourBitWeight.quantize(w, QuantType.FP4, 64, true));
            case INT8 -> quantized.put(key, Int8Weight.quantize(w));
            case BF16 -> dense.put(key, Ops.cast(w, DType.BF16));
            case F32 -> dense.put(key, Ops.cast(w, DType.F32));
        }
    }

    /**
     * Loads a Hugging Face Llama-architecture folder: {@code config.json} and {@code model.safetensors}
     * (or shards listed in {@code model.safetensors.index.json}), with F32, BF16 or F16 weights. The
     * files are memory-mapped and each linear weight is converted to {@code format} as it is read, so
     * the model never exists twice in memory; the embeddings and the output head are kept in
     * {@link #embeddingType}, norms and biases in F32.
     */
    public static LlamaModel load(Path dir, BaseFormat format) throws IOException {
        return load(dir, format, (done, layers) -> { });
    }

    /** What {@link #load(Path, BaseFormat, Progress)} reports: decoder layers read and converted so far. */
    @FunctionalInterface
    public interface Progress {
        /** {@code done} of {@code layers} decoder layers are read and converted. */
        void layers(int done, int layers);
    }

    /**
     * {@link #load(Path, BaseFormat)}, reporting each decoder layer as it is read and converted. Before
     * anything is read, config.json is checked, the model's memory in {@code format} is compared with
     * what is available ({@link ModelMemory}), and every weight's shape is checked against the config.
     *
     * @throws IllegalStateException when the model would not fit in memory, naming a format that would
     */
    public static LlamaModel load(Path dir, BaseFormat format, Progress progress) throws IOException {
        LlamaConfig c = HfConfig.read(dir.resolve("config.json"));
        ModelMemory.require(dir, c, format);
        LlamaModel m = new LlamaModel(c);
        try (HfCheckpoint ckpt = HfCheckpoint.open(dir)) {
            // Every shape against config.json before anything is read or computed.
            LlamaLayout.check(dir, c, ckpt);
            m.dense.put("model.embed_tokens.weight", ckpt.read("model.embed_tokens.weight", embeddingType(format), c.vocabSize(),
                    c.hiddenSize()));
            for (int l = 0; l < c.layers(); l++) {
                String p = "model.layers." + l + ".";
                m.dense.put(p + "input_layernorm.weight", ckpt.f32(p + "input_layernorm.weight", c.hiddenSize()));
                m.dense.put(p + "post_attention_layernorm.weight", ckpt.f32(p + "post_attention_layernorm.weight", c.hiddenSize()));
                for (String module : LINEAR_MODULES) {
                    String key = linearKey(l, module);
                    try (Tensor w = ckpt.mapped(key)) {
                        m.putLinear(key, w, format);
                    }
                    if (c.hasBias(module)) {
                        String bias = LlamaLayout.biasKey(key);
                        m.dense.put(bias, ckpt.f32(bias, c.linearShape(module)[0]));
                    }
                }
                progress.layers(l + 1, c.layers());
            }
            m.dense.put("model.norm.weight", ckpt.f32("model.norm.weight", c.hiddenSize()));
            if (!c.tiedEmbeddings()) {
                m.dense.put("lm_head.weight", ckpt.read("lm_head.weight", embeddingType(format), c.vocabSize(), c.hiddenSize()));
            }
        } catch (RuntimeException | IOException e) {
            m.close();
            throw e;
        }
        return m;
    }

    /**
     * Writes the base model as a Hugging Face folder (config.json and model.safetensors, F32;
     * quantized weights dequantized), which {@link #load} reads back. Adapters are not included.
     */
    public void saveHf(Path dir) throws IOException {
        java.nio.file.Files.createDirectories(dir);
        Map<String, Tensor> all = new LinkedHashMap<>();
        List<Tensor> made = new ArrayList<>();
        try {
            for (Map.Entry<String, Tensor> e : dense.entrySet()) {
                Tensor f = Ops.cast(e.getValue(), DType.F32);
                made.add(f);
                all.put(e.getKey(), f);
            }
            for (Map.Entry<String, QuantizedWeight> e : quantized.entrySet()) {
                Tensor f = e.getValue().dequantize(DType.F32);
                made.add(f);
                all.put(e.getKey(), f);
            }
            dev.qlora4j.engine.safetensors.SafetensorsWriter.write(dir.resolve("model.safetensors"), all, Map.of("format", "pt"));
        } finally {
            made.forEach(Tensor::close);
        }
        dev.qlora4j.engine.AtomicFiles.writeString(dir.resolve("config.json"), HfConfigWriter.json(config, "float32"));
    }

    /** Where the model's weights live. */
    public Device device() {
        return dense.get("model.norm.weight").device();
    }

    /**
     * Moves every base weight to {@code target} in place — quantized weights as they are, packed —
     * before adapters are attached or full fine-tuning is enabled, which then live there too. An
     * untied input embedding stays in host memory (see {@link #embed}) until full fine-tuning trains it.
     *
     * @throws IllegalStateException when adapters or trainable base weights already exist
     */
    public void to(Device target) {
        if (!adapters.isEmpty() || !trainableBase.isEmpty()) {
            throw new IllegalStateException("LlamaModel.to(" + target + "): move the model before attaching adapters"
                    + " or enabling full fine-tuning");
        }
        for (Map.Entry<String, Tensor> e : dense.entrySet()) {
            // The input embedding is only gathered from, B·T rows a step: under a GPU it stays in host
            // memory, as llama.cpp keeps it, which frees vocab × hidden × 2 bytes of the device (1 GiB
            // in Llama 3.1 8B). A tied table is the head too, and goes along.
            Device home = e.getKey().equals(EMBEDDING) && !config.tiedEmbeddings() ? Device.CPU : target;
            Tensor moved = Scope.unscoped(() -> e.getValue().to(home));
            e.getValue().close();
            e.setValue(moved);
        }
        for (Map.Entry<String, QuantizedWeight> e : quantized.entrySet()) {
            QuantizedWeight moved = Scope.unscoped(() -> e.getValue().to(target));
            e.getValue().close();
            e.setValue(moved);
        }
    }

    private FrozenWeight frozen(String key) {
        QuantizedWeight q = quantized.get(key);
        return q != null ? FrozenWeight.of(q) : FrozenWeight.of(dense.get(key));
    }

    /**
     * Attaches a LoRA adapter of rank r to every linear layer whose module name is in
     * {@code targets} (e.g. q_proj, v_proj), initialised as PEFT does.
     */
    public void attachLora(Set<String> targets, int rank, float alpha, boolean rsLora, long seed) {
        for (String t : targets) {
            if (!LINEAR_MODULES.contains(t)) {
                throw new IllegalArgumentException("LoRA target \"" + t + "\": expected one of " + LINEAR_MODULES);
            }
        }
        long s = seed;
        for (int l = 0; l < config.layers(); l++) {
            for (String module : LINEAR_MODULES) {
                if (targets.contains(module)) {
                    String key = linearKey(l, module);
                    adapters.put(key, LoraLinear.create(frozen(key), rank, alpha, rsLora, LoraLinear.Init.KAIMING_UNIFORM, s++));
                }
            }
        }
    }

    /** The dense weights by checkpoint name (embeddings, norms, biases, dense linear layers, the head). */
    Map<String, Tensor> denseWeights() {
        return java.util.Collections.unmodifiableMap(dense);
    }

    /** The quantized linear weights by checkpoint name. */
    Map<String, QuantizedWeight> quantizedWeights() {
        return java.util.Collections.unmodifiableMap(quantized);
    }

    /** The shape of the base weight stored under {@code name}, dense or quantized. */
    dev.qlora4j.engine.Shape weightShape(String name) {
        Tensor t = dense.get(name);
        return t != null ? t.shape() : quantized.get(name).shape();
    }

    /** Whether {@code name} is a decoder layer's linear weight (what adapters attach to and NF4 quantizes). */
    boolean isLinear(String name) {
        return quantized.containsKey(name) || name.startsWith("model.layers.") && name.endsWith("_proj.weight");
    }

    /** The adapters by the key of the weight they adapt. */
    public Map<String, LoraLinear> adapters() {
        return adapters;
    }

    /**
     * Makes every base weight — embeddings, norms, linear layers, the output head — a trainable F32
     * parameter: full fine-tuning, the baseline LoRA is measured against. Backward then computes a dW
     * for every linear layer. Only a dense base can be trained this way: 4-bit and INT8 weights have
     * no gradient, and BF16 weights are widened to F32 master copies first.
     */
    public void enableFullFineTuning() {
        if (!quantized.isEmpty()) {
            throw new IllegalStateException("full fine-tuning: the base holds " + quantized.size()
                    + " quantized weights (e.g. " + quantized.keySet().iterator().next()
                    + "); expected a model loaded or built with BaseFormat.F32 or BF16");
        }
        for (Map.Entry<String, Tensor> e : dense.entrySet()) {
            if (!e.getValue().device().equals(device())) {
                // The embedding a GPU left in host memory: trained, it must be where its gradient is.
                Tensor moved = Scope.unscoped(() -> e.getValue().to(device()));
                e.getValue().close();
                e.setValue(moved);
            }
            if (e.getValue().dtype() != DType.F32) {
                Tensor f32 = Ops.cast(e.getValue(), DType.F32);
                e.getValue().close();
                e.setValue(f32);
            }
            trainableBase.putIfAbsent(e.getKey(), Var.leaf(e.getValue(), true));
        }
    }

    /** Every trainable parameter: the A and B of each adapter, then any fully fine-tuned base weight. */
    public List<Var> trainableParameters() {
        List<Var> p = new ArrayList<>();
        adapters.values().forEach(a -> p.addAll(a.parameters()));
        p.addAll(trainableBase.values());
        return p;
    }

    /**
     * Lets {@link #forward} take contexts longer than the model's {@code max_position_embeddings}, which
     * it refuses by default: positions past the trained range are extrapolation, whose quality the
     * model's authors did not claim.
     */
    public void allowLongerContext(boolean allow) {
        this.longerContextAllowed = allow;
    }

    private void checkContext(int t) {
        if (t > config.maxPositions() && !longerContextAllowed) {
            throw new IllegalArgumentException("a context of " + t + " tokens is longer than the model's "
                    + "max_position_embeddings " + config.maxPositions() + "; allow it explicitly to extrapolate");
        }
        if (config.slidingWindow() > 0 && t > config.slidingWindow()) {
            throw new IllegalArgumentException("a context of " + t + " tokens is longer than the model's sliding_window "
                    + config.slidingWindow() + "; qlora4j's attention is full causal, so it would compute something else");
        }
    }

    /** Switches every adapter on or off. */
    public void setAdaptersEnabled(boolean enabled) {
        adapters.values().forEach(a -> a.setEnabled(enabled));
    }

    private Var linear(Var x, int layer, String module, Map<String, Long> seeds) {
        String key = linearKey(layer, module);
        LoraLinear a = adapters.get(key);
        return a == null ? linear(x, key) : withBias(a.forward(x, seeds.get(module)), key);
    }

    /**
     * {@code x·Wᵀ (+ b)} through the trainable or the frozen weight stored under key (a module without
     * an adapter), plus the module's bias when it has one.
     */
    private Var linear(Var x, String key) {
        Var w = trainableBase.get(key);
        return withBias(w != null ? F.matmul(x, F.transpose(w, 0, 1)) : F.linear(x, frozen(key)), key);
    }

    /** y plus the bias of the module whose weight is stored under key, when it has one (as in PEFT, the base layer's). */
    private Var withBias(Var y, String key) {
        String bias = key.endsWith(".weight") ? LlamaLayout.biasKey(key) : null;
        return bias != null && dense.containsKey(bias) ? F.add(y, baseVar(bias)) : y;
    }

    private Var baseVar(String key) {
        Var w = trainableBase.get(key);
        return w != null ? w : Var.leaf(dense.get(key), false);
    }

    /**
     * Logits [B·T, vocab] for I32 token ids [B, T].
     *
     * @throws IllegalArgumentException when T is longer than the model's {@code max_position_embeddings}
     *         (unless {@link #allowLongerContext} was called) or than its sliding window
     */
    public Var forward(Tensor ids) {
        int b = ids.dim(0);
        int t = ids.dim(1);
        return F.reshape(linear(hidden(ids), headKey()), b * t, config.vocabSize());
    }

    /**
     * The mean next-token cross-entropy of I32 token ids [B, T] against targets [B·T] (positions whose
     * target is {@code ignoreIndex} skipped), with the head's product and the loss fused and computed
     * {@link #lossChunkRows} rows at a time: no [B·T, vocab] logits are kept for backward. Equal to
     * {@code crossEntropy(forward(ids), targets)} to rounding (exactly, when one chunk holds every row).
     */
    public Var loss(Tensor ids, Tensor targets, int ignoreIndex) {
        int b = ids.dim(0);
        int t = ids.dim(1);
        Var hidden = F.reshape(hidden(ids), b * t, config.hiddenSize());
        String head = headKey();
        Var trained = trainableBase.get(head);
        FrozenWeight weight = trained != null ? FrozenWeight.of(trained.value()) : frozen(head);
        return F.linearCrossEntropy(hidden, weight, trained, targets, ignoreIndex, lossChunkRows(b * t));
    }

    /**
     * Rows of logits the loss computes at once: as many as fit {@link #setLossChunkBytes} bytes of F32
     * logits (at least one row), so the loss's workspace stays a few MiB whatever the vocabulary and batch.
     */
    private int lossChunkRows(int rows) {
        return (int) Math.max(1, Math.min(rows, lossChunkBytes / (4L * config.vocabSize())));
    }

    /** The loss's default budget for one chunk of logits (its log-softmax takes as much again, briefly). */
    public static final long LOSS_CHUNK_BYTES = 32L << 20;

    /**
     * Sets the loss's budget for one chunk of F32 logits, {@value #LOSS_CHUNK_BYTES} bytes by default:
     * smaller saves memory, larger makes fewer, bigger products. The loss is the same to rounding.
     *
     * @throws IllegalArgumentException when bytes is not positive
     */
    public void setLossChunkBytes(long bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("loss chunk of " + bytes + " bytes: expected at least 1 (one row of logits is"
                    + " the least a chunk holds)");
        }
        this.lossChunkBytes = bytes;
    }

    private String headKey() {
        return config.tiedEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight";
    }

    /** The final norm's output [B, T, hidden] for I32 token ids [B, T]: the decoder without its head. */
    private Var hidden(Tensor ids) {
        int b = ids.dim(0);
        int t = ids.dim(1);
        checkContext(t);
        Var x = embed(ids);
        // Drawn before a layer runs, so that a checkpointed layer's recomputation masks as its first run did.
        List<Map<String, Long>> seeds = new ArrayList<>();
        for (int l = 0; l < config.layers(); l++) {
            seeds.add(dropoutSeeds(l));
        }
        if (gradientCheckpointing && Tape.recording()) {
            Device keepOn = offloadCheckpoints ? Device.CPU : x.value().device();
            Var embedded = x;
            x = F.checkpoint(x, config.layers(), (l, in) -> decoderLayer(l, in, seeds.get(l), b, t), trainableParameters(),
                    keepOn, checkpointType);
            boolean copied = !keepOn.equals(embedded.value().device()) || checkpointType != DType.F32;
            if (copied && !embedded.requiresGrad()) {
                embedded.value().close();   // the chain keeps its own copy; nothing else reads it
            }
        } else {
            for (int l = 0; l < config.layers(); l++) {
                x = decoderLayer(l, x, seeds.get(l), b, t);
            }
        }
        return F.rmsNorm(x, baseVar("model.norm.weight"), config.rmsEps());
    }

    /**
     * The embedding of I32 ids [B, T] (on any device) as [B, T, hidden] F32 on the model's device. A
     * table left in host memory under a GPU ({@link #to}) is gathered from there — B·T rows of it — and
     * the rows are copied over.
     */
    private Var embed(Tensor ids) {
        Var table = baseVar(EMBEDDING);
        if (table.value().device().equals(device())) {
            return F.embedding(ids, table);
        }
        try (Tensor hostRows = F.embedding(ids, table).value()) {
            return Var.leaf(hostRows.to(device()), false);
        }
    }

    /** One decoder layer: x + attention(norm(x)), then + MLP(norm(·)). */
    private Var decoderLayer(int l, Var x, Map<String, Long> seeds, int b, int t) {
        int h = config.heads();
        int kvh = config.kvHeads();
        int hd = config.headDim();
        String p = "model.layers." + l + ".";
        Var n = F.rmsNorm(x, baseVar(p + "input_layernorm.weight"), config.rmsEps());
        Var q = F.rope(F.transpose(F.reshape(linear(n, l, "q_proj", seeds), b, t, h, hd), 1, 2), 0, config.rotary());
        Var k = F.rope(F.transpose(F.reshape(linear(n, l, "k_proj", seeds), b, t, kvh, hd), 1, 2), 0, config.rotary());
        Var v = F.transpose(F.reshape(linear(n, l, "v_proj", seeds), b, t, kvh, hd), 1, 2);
        Var att = F.reshape(F.transpose(F.causalAttention(q, k, v), 1, 2), b, t, h * hd);
        Var y = F.add(x, linear(att, l, "o_proj", seeds));
        Var n2 = F.rmsNorm(y, baseVar(p + "post_attention_layernorm.weight"), config.rmsEps());
        Var mlp = F.swiglu(linear(n2, l, "gate_proj", seeds), linear(n2, l, "up_proj", seeds));
        return F.add(y, linear(mlp, l, "down_proj", seeds));
    }

    /** Each adapter's dropout seed for one run of layer l, by module. */
    private Map<String, Long> dropoutSeeds(int l) {
        Map<String, Long> seeds = new java.util.HashMap<>();
        for (String module : LINEAR_MODULES) {
            LoraLinear a = adapters.get(linearKey(l, module));
            if (a != null) {
                seeds.put(module, a.nextDropoutSeed());
            }
        }
        return seeds;
    }

    /**
     * Activation checkpointing per decoder layer: a training forward keeps each layer's input and
     * output only, and the backward recomputes the layer. Saves most of the activations for about a
     * third more compute; the gradients are the same, bit for bit.
     */
    public void setGradientCheckpointing(boolean on) {
        this.gradientCheckpointing = on;
    }

    /**
     * With gradient checkpointing, keeps the layers' inputs in host memory instead of on the model's
     * device between forward and backward: the device then holds one layer's input at a time, for a
     * copy of hidden × B·T floats each way per layer. No effect on the CPU, whose memory is the host's.
     */
    public void setCheckpointOffload(boolean on) {
        this.offloadCheckpoints = on;
    }

    /**
     * With gradient checkpointing, the dtype the layers' inputs are kept in: F32 (the default; the
     * gradients are the plain step's bit for bit) or BF16 — half their memory, the forward unchanged,
     * and each layer recomputed from its input rounded to BF16, as a BF16 compute path keeps its
     * hidden states.
     *
     * @throws IllegalArgumentException for any other dtype
     */
    public void setCheckpointType(DType type) {
        if (type != DType.F32 && type != DType.BF16) {
            throw new IllegalArgumentException("checkpointed layer inputs as " + type + ": expected F32 or BF16");
        }
        this.checkpointType = type;
    }

    /** Whether {@link #setGradientCheckpointing} is on. */
    public boolean gradientCheckpointing() {
        return gradientCheckpointing;
    }

    /**
     * The logits of the token that follows {@code context}, without recording for backward. The whole
     * context is recomputed each call (there is no key/value cache yet): fine for small models and
     * short generations, quadratic in the context length.
     */
    public float[] nextLogits(int[] context) {
        float[] ids = new float[context.length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = context[i];
        }
        try (Scope s = Scope.open(); Tape.NoGrad off = Tape.noGrad()) {
            Tensor logits = forward(Tensor.of(DType.I32, ids, 1, ids.length)).value();
            try (Tensor last = logits.slice(0, ids.length - 1, ids.length)) {
                return last.toFloatArray();
            }
        }
    }

    /** Exact bytes of the decoder layers' linear weights in their stored format, quantization state included. */
    public long linearBytes() {
        long bytes = 0;
        for (int l = 0; l < config.layers(); l++) {
            for (String module : LINEAR_MODULES) {
                String key = linearKey(l, module);
                QuantizedWeight q = quantized.get(key);
                bytes += q != null ? q.footprintBytes() : dense.get(key).numel() * dense.get(key).dtype().byteSize();
            }
        }
        return bytes;
    }

    /** Bytes of every weight the model holds (quantized ones at their stored size), adapters excluded. */
    public long baseBytes() {
        long bytes = 0;
        for (Tensor w : dense.values()) {
            bytes += w.numel() * w.dtype().byteSize();
        }
        for (QuantizedWeight q : quantized.values()) {
            bytes += q.footprintBytes();
        }
        return bytes;
    }

    @Override
    public void close() {
        trainableBase.values().forEach(Var::zeroGrad);
        adapters.values().forEach(LoraLinear::close);
        dense.values().forEach(Tensor::close);
        quantized.values().forEach(QuantizedWeight::close);
    }
}
