package dev.qlora4j.nf4;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.Shape;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.json.Json;
import dev.qlora4j.json.JsonException;
import dev.qlora4j.engine.safetensors.SafetensorsFile;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Quantized weights in the safetensors layout transformers writes for bitsandbytes models, so
 * that files move between qlora4j and transformers/bitsandbytes unchanged. For a 4-bit weight
 * {@code W} (e.g. {@code model.layers.0.mlp.up_proj.weight}):
 * <pre>
 *   W                                   U8  [(n+1)/2, 1]  packed codes
 *   W.absmax                            F32 [nb], or U8 [nb] with double quant
 *   W.quant_map                         F32 [16]
 *   W.nested_absmax                     F32 [ceil(nb/256)]   (double quant)
 *   W.nested_quant_map                  F32 [256]            (double quant)
 *   W.quant_state.bitsandbytes__nf4     U8  [len]  JSON: quant_type, blocksize, dtype, shape,
 *                                                   nested_blocksize, nested_dtype, nested_offset
 * </pre>
 * and for an LLM.int8 weight: {@code W} I8 [out, in], {@code M.SCB} F32 [out] and
 * {@code M.weight_format} U8 scalar 0 ("row"), where {@code M} is W's module prefix.
 */
public final class BnbCheckpoint {
    private static final String STATE_KEY = ".quant_state.bitsandbytes__";

    private BnbCheckpoint() {
    }

    /** The torch dtype name bitsandbytes records ("bfloat16", "float16", "float32"). */
    static String torchName(DType t) {
        return switch (t) {
            case F32 -> "float32";
            case BF16 -> "bfloat16";
            case F16 -> "float16";
            default -> throw new IllegalArgumentException("no bitsandbytes dtype for " + t);
        };
    }

    static DType fromTorchName(String name) {
        return switch (name) {
            case "float32" -> DType.F32;
            case "bfloat16" -> DType.BF16;
            case "float16" -> DType.F16;
            default -> throw new IllegalArgumentException("quant_state dtype \"" + name
                    + "\": expected \"float32\", \"bfloat16\" or \"float16\"");
        };
    }

    /** The quant_state JSON, with Python's json.dumps separators and key order. */
    static String stateJson(FourBitWeight q) {
        StringBuilder b = new StringBuilder();
        b.append("{\"quant_type\": \"").append(q.type().jsonName()).append("\", \"blocksize\": ").append(q.blocksize())
                .append(", \"dtype\": \"").append(torchName(q.originalDType())).append("\", \"shape\": [");
        int[] dims = q.shape().dims();
        for (int i = 0; i < dims.length; i++) {
            b.append(i == 0 ? "" : ", ").append(dims[i]);
        }
        b.append(']');
        if (q.doubleQuant()) {
            b.append(", \"nested_blocksize\": ").append(FourBitWeight.NESTED_BLOCKSIZE)
                    .append(", \"nested_dtype\": \"float32\", \"nested_offset\": ").append(PythonFloat.repr(q.offset()));
        }
        return b.append('}').toString();
    }

    /**
     * The tensors that store {@code q} under the key {@code name}, in the order transformers writes
     * them. New tensors (copies), which the caller closes once written.
     */
    public static Map<String, Tensor> tensors(String name, FourBitWeight q) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put(name, copy(q.packed()));
        out.put(name + ".absmax", copy(q.absmaxTensor()));
        out.put(name + ".quant_map", Tensor.of(q.type().quantMap(), 16));
        if (q.doubleQuant()) {
            out.put(name + ".nested_absmax", copy(q.nestedAbsmax()));
            out.put(name + ".nested_quant_map", Tensor.of(q.nestedCode(), 256));
        }
        byte[] json = stateJson(q).getBytes(StandardCharsets.UTF_8);
        Tensor state = Tensor.empty(DType.U8, json.length);
        MemorySegment.copy(json, 0, state.segment(), ValueLayout.JAVA_BYTE, state.byteOffset(), json.length);
        out.put(name + STATE_KEY + q.type().jsonName(), state);
        return out;
    }

    /** The tensors of an LLM.int8 weight stored under {@code name} (which ends in ".weight"). */
    public static Map<String, Tensor> tensors(String name, Int8Weight q) {
        String module = modulePrefix(name);
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put(name, copy(q.cb()));
        out.put(module + "SCB", copy(q.scb()));
        out.put(module + "weight_format", Tensor.zeros(DType.U8));
        return out;
    }

    private static String modulePrefix(String name) {
        return name.endsWith("weight") ? name.substring(0, name.length() - "weight".length()) : name + ".";
    }

    private static Tensor copy(Tensor t) {
        return Ops.cast(t, t.dtype());
    }

    /** The 4-bit weights in a file: every key with a quant_state entry beside it. */
    public static List<String> fourBitNames(SafetensorsFile f) {
        List<String> names = new ArrayList<>();
        for (String k : f.names()) {
            int at = k.indexOf(STATE_KEY);
            if (at > 0) {
                names.add(k.substring(0, at));
            }
        }
        return names;
    }

    /** The LLM.int8 weights in a file: I8 tensors named "*weight" with a sibling "SCB". */
    public static List<String> int8Names(SafetensorsFile f) {
        List<String> names = new ArrayList<>();
        for (String k : f.names()) {
            if (f.info(k).dtype() == DType.I8 && f.contains(modulePrefix(k) + "SCB")) {
                names.add(k);
            }
        }
        return names;
    }

    /** The keys that belong to the quantized weight {@code name} (for copying the rest unchanged). */
    public static List<String> ownedKeys(SafetensorsFile f, String name) {
        List<String> keys = new ArrayList<>();
        for (String k : f.names()) {
            if (k.equals(name) || k.startsWith(name + ".")
                    || (f.info(name).dtype() == DType.I8 && (k.equals(modulePrefix(name) + "SCB")
                    || k.equals(modulePrefix(name) + "weight_format")))) {
                keys.add(k);
            }
        }
        return keys;
    }

    /**
     * Reads the 4-bit weight {@code name}, copying its tensors out of the file; the stored
     * {@code nested_quant_map} is used as written.
     *
     * @throws IllegalArgumentException naming the key and what was expected when the layout is off
     */
    public static FourBitWeight readFourBit(SafetensorsFile f, String name) {
        String stateKey = null;
        for (String k : f.names()) {
            if (k.startsWith(name + STATE_KEY)) {
                stateKey = k;
            }
        }
        if (stateKey == null) {
            throw new IllegalArgumentException(f.path() + ": no \"" + name + STATE_KEY + "nf4\" (or fp4) entry");
        }
        Map<?, ?> state;
        try (Tensor s = f.tensor(stateKey)) {
            byte[] bytes = s.segment().asSlice(s.byteOffset(), s.numel()).toArray(ValueLayout.JAVA_BYTE);
            Object parsed;
            try {
                parsed = Json.parse(bytes);
            } catch (JsonException e) {
                throw e.in(f.path() + ": " + stateKey);
            }
            if (!(parsed instanceof Map<?, ?> m)) {
                throw new IllegalArgumentException(f.path() + ": " + stateKey + " is not a JSON object");
            }
            state = m;
        }
        QuantType type = QuantType.fromJsonName(string(state, "quant_type", stateKey));
        Number blocksizeValue = number(state, "blocksize", stateKey);
        if (blocksizeValue.doubleValue() != blocksizeValue.intValue()) {
            throw new IllegalArgumentException(f.path() + ": " + stateKey + ": blocksize " + blocksizeValue
                    + "; expected one of bitsandbytes' block sizes (64 by default)");
        }
        int blocksize = blocksizeValue.intValue();
        FourBitWeight.checkBlocksize(stateKey, blocksize);
        DType dtype = fromTorchName(string(state, "dtype", stateKey));
        if (!(state.get("shape") instanceof List<?> dimList) || dimList.isEmpty()) {
            throw new IllegalArgumentException(f.path() + ": " + stateKey + " needs a \"shape\" list");
        }
        long[] dims = new long[dimList.size()];
        for (int i = 0; i < dims.length; i++) {
            if (!(dimList.get(i) instanceof Number d) || d.doubleValue() != d.longValue()) {
                throw new IllegalArgumentException(f.path() + ": " + stateKey + ": shape " + dimList
                        + " holds " + Json.describe(dimList.get(i)) + "; expected whole numbers");
            }
            dims[i] = d.longValue();
        }
        Shape shape = Shape.of(dims);
        long n = shape.numel();
        long nb = (n + blocksize - 1) / blocksize;
        // As bitsandbytes' QuantState.from_dict: a nested_absmax tensor means double quantization; the
        // state's nested_offset and the nested code book must then be there too, and are named when not.
        boolean dq = f.contains(name + ".nested_absmax") || state.containsKey("nested_offset");
        float offset = dq ? (float) number(state, "nested_offset", stateKey).doubleValue() : 0f;
        List<Tensor> copied = new ArrayList<>();
        try {
            Tensor packed = keep(copied, read(f, name, DType.U8, (n + 1) / 2));
            Tensor absmax = keep(copied, read(f, name + ".absmax", dq ? DType.U8 : DType.F32, nb));
            if (!dq) {
                return new FourBitWeight(type, blocksize, dtype, shape, packed, absmax, null, 0f, null);
            }
            long nested = (nb + FourBitWeight.NESTED_BLOCKSIZE - 1) / FourBitWeight.NESTED_BLOCKSIZE;
            Tensor nestedAbsmax = keep(copied, read(f, name + ".nested_absmax", DType.F32, nested));
            float[] nestedCode;
            try (Tensor map = read(f, name + ".nested_quant_map", DType.F32, 256)) {
                nestedCode = map.toFloatArray();
            }
            return new FourBitWeight(type, blocksize, dtype, shape, packed, absmax, nestedAbsmax, offset, nestedCode);
        } catch (RuntimeException e) {
            copied.forEach(Tensor::close); // a refused weight leaves no native memory behind
            throw e;
        }
    }

    private static Tensor keep(List<Tensor> copied, Tensor t) {
        copied.add(t);
        return t;
    }

    /** Reads the LLM.int8 weight {@code name} and its row scales. */
    public static Int8Weight readInt8(SafetensorsFile f, String name) {
        Tensor cb = f.tensor(name);
        try (cb) {
            if (cb.rank() != 2) {
                throw new IllegalArgumentException(f.path() + ": int8 weight " + name + " is " + cb.describe() + "; expected 2-D");
            }
            Tensor scb = read(f, modulePrefix(name) + "SCB", DType.F32, cb.dim(0));
            return new Int8Weight(copy(cb), scb, DType.F16);
        }
    }

    /** A copy of tensor {@code key}, checked to have {@code dtype} and {@code numel} elements. */
    private static Tensor read(SafetensorsFile f, String key, DType dtype, long numel) {
        if (!f.contains(key)) {
            throw new IllegalArgumentException(f.path() + ": missing \"" + key + "\"");
        }
        try (Tensor t = f.tensor(key)) {
            if (t.dtype() != dtype || t.numel() != numel) {
                throw new IllegalArgumentException(f.path() + ": \"" + key + "\" is " + t.describe() + "; expected "
                        + dtype + " with " + numel + " elements");
            }
            return copy(t);
        }
    }

    private static String string(Map<?, ?> m, String key, String where) {
        if (!(m.get(key) instanceof String s)) {
            throw new IllegalArgumentException(where + ": quant_state needs a string \"" + key + "\"");
        }
        return s;
    }

    private static Number number(Map<?, ?> m, String key, String where) {
        if (!(m.get(key) instanceof Number x)) {
            throw new IllegalArgumentException(where + ": quant_state needs a number \"" + key + "\"");
        }
        return x;
    }
}
