package dev.qlora4j.autograd.llama;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.NonFinite;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.json.Json;
import dev.qlora4j.engine.safetensors.SafetensorsFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A Hugging Face model folder opened for reading: {@code config.json}, and the weights in
 * {@code model.safetensors} or in the shards {@code model.safetensors.index.json} lists, all
 * memory-mapped. Owns the mappings; tensors it hands out are valid until it closes.
 */
final class HfCheckpoint implements AutoCloseable {
    private final Map<String, SafetensorsFile> fileOf = new HashMap<>();
    private final Map<Path, SafetensorsFile> open = new LinkedHashMap<>();

    private HfCheckpoint() {
    }

    static HfCheckpoint open(Path dir) throws IOException {
        HfCheckpoint c = new HfCheckpoint();
        try {
            Path single = dir.resolve("model.safetensors");
            Path index = dir.resolve("model.safetensors.index.json");
            if (Files.isRegularFile(single)) {
                SafetensorsFile f = c.file(single);
                f.names().forEach(n -> c.fileOf.put(n, f));
            } else if (Files.isRegularFile(index)) {
                if (!(Json.parse(index) instanceof Map<?, ?> m) || !(m.get("weight_map") instanceof Map<?, ?> map)) {
                    throw new IllegalArgumentException(index + ": expected {\"weight_map\": {name: file}}");
                }
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    if (!(e.getValue() instanceof String shard)) {
                        throw new IllegalArgumentException(index + ": weight_map[" + Json.quote(String.valueOf(e.getKey()))
                                + "] is " + Json.describe(e.getValue()) + "; expected the name of a .safetensors file");
                    }
                    Path shardFile = dir.resolve(shard);
                    if (!Files.isRegularFile(shardFile)) {
                        throw new IllegalArgumentException(index + " puts " + e.getKey() + " in " + Json.quote(shard)
                                + ", which is not a file in " + dir + "; is a shard missing from the download?");
                    }
                    c.fileOf.put((String) e.getKey(), c.file(shardFile));
                }
            } else {
                throw new IllegalArgumentException(dir + ": no model.safetensors or model.safetensors.index.json");
            }
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
        return c;
    }

    private SafetensorsFile file(Path p) throws IOException {
        SafetensorsFile f = open.get(p);
        if (f == null) {
            f = SafetensorsFile.open(p);
            open.put(p, f);
        }
        return f;
    }

    /** The stored shape of the tensor {@code name}, or null when the checkpoint has no such tensor. */
    int[] shape(String name) {
        SafetensorsFile f = fileOf.get(name);
        return f == null ? null : f.info(name).shape().dims();
    }

    /**
     * A view of the mapped tensor (no copy), checked to hold only finite values: a NaN weight would
     * otherwise surface as garbage text, or as a NaN loss blamed on the learning rate.
     */
    Tensor mapped(String name) {
        SafetensorsFile f = fileOf.get(name);
        if (f == null) {
            throw new IllegalArgumentException("checkpoint: no tensor \"" + name + "\"");
        }
        Tensor t = f.tensor(name);
        if (!t.dtype().isFloatingPoint()) {
            t.close();
            throw new IllegalArgumentException("checkpoint: \"" + name + "\" is " + f.info(name).dtype() + "; expected F32, BF16 or F16");
        }
        NonFinite bad = NonFinite.of(t);
        if (!bad.none()) {
            t.close();
            throw new IllegalArgumentException(f.path() + ": \"" + name + "\" holds " + bad.describe()
                    + "; the checkpoint is damaged or was saved from a diverged run");
        }
        return t;
    }

    /** An F32 copy of the tensor, checked to have the expected shape. */
    Tensor f32(String name, int... dims) {
        return read(name, DType.F32, dims);
    }

    /** The tensor {@code name}, checked to have shape {@code dims}, as a new tensor of {@code type}. */
    Tensor read(String name, DType type, int... dims) {
        try (Tensor t = mapped(name)) {
            if (!Arrays.equals(t.shape().dims(), dims)) {
                throw new IllegalArgumentException("checkpoint: \"" + name + "\" is " + t.describe() + "; expected "
                        + Arrays.toString(dims));
            }
            return Ops.cast(t, type);
        }
    }

    @Override
    public void close() {
        open.values().forEach(SafetensorsFile::close);
    }
}
