package dev.qlora4j.engine.safetensors;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Shape;
import dev.qlora4j.json.Json;
import dev.qlora4j.json.JsonException;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The JSON header of a safetensors file, in both directions: {@link #parse} validates one read
 * from a file, {@link #encode} produces one to write.
 *
 * <p>The header is a JSON object mapping each tensor name to
 * {@code {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}}, plus an optional
 * {@code "__metadata__"} object of string values. Offsets count from the first byte after the
 * header (the data section).
 *
 * @param tensors  each tensor's entry, in the order the header lists them; unmodifiable
 * @param metadata the {@code __metadata__} entries, empty when there are none; unmodifiable
 */
record SafetensorsHeader(Map<String, TensorInfo> tensors, Map<String, String> metadata) {
    /** The header key that holds metadata instead of a tensor. */
    static final String METADATA_KEY = "__metadata__";

    private static final List<String> FIELDS = List.of("dtype", "shape", "data_offsets");
    private static final String FIELD_LIST = "dtype, shape, data_offsets";

    /** How much of a malformed value a message quotes. */
    private static final int MESSAGE_LIMIT = 100;

    /** The data section starts at a multiple of this many bytes from the start of the file. */
    static final int DATA_ALIGNMENT = 8;

    /**
     * Validates a header against the format's rules and a data section of {@code dataSize} bytes:
     * every entry has exactly the three fields, a supported dtype, non-negative integer dimensions
     * and offsets {@code 0 <= begin <= end <= dataSize} spanning {@code numel * dtype size} bytes,
     * and the tensors' byte ranges cover the data section exactly — no overlap, no gap, nothing
     * left over at the end, the rule of the reference (Rust) safetensors implementation.
     *
     * @param json     the header bytes, UTF-8
     * @param dataSize bytes in the file after the header
     * @param file     the file's name, for messages
     * @throws SafetensorsFormatException naming the file, the tensor and what was expected
     */
    static SafetensorsHeader parse(byte[] json, long dataSize, String file) throws SafetensorsFormatException {
        Object root;
        try {
            root = Json.parse(json);
        } catch (JsonException e) {
            throw new SafetensorsFormatException(file + ": the header is not valid UTF-8 JSON: at header byte "
                    + e.position() + " (file offset " + (8 + e.position()) + "): " + e.problem(), e);
        }
        if (!(root instanceof Map<?, ?> entries)) {
            throw new SafetensorsFormatException(file + ": the header is " + Json.describe(root)
                    + "; expected a JSON object mapping tensor names to {" + FIELD_LIST + "}");
        }
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = Map.of();
        for (Map.Entry<?, ?> e : entries.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals(METADATA_KEY)) {
                metadata = parseMetadata(e.getValue(), file);
            } else {
                tensors.put(name, parseEntry(name, e.getValue(), dataSize, file));
            }
        }
        checkCoverage(tensors, dataSize, file);
        return new SafetensorsHeader(Collections.unmodifiableMap(tensors), metadata);
    }

    private static Map<String, String> parseMetadata(Object value, String file) throws SafetensorsFormatException {
        if (!(value instanceof Map<?, ?> entries)) {
            throw new SafetensorsFormatException(file + ": " + METADATA_KEY + " is " + Json.describe(value)
                    + "; expected an object whose values are strings");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : entries.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw new SafetensorsFormatException(file + ": " + METADATA_KEY + " entry "
                        + Json.quote((String) e.getKey()) + " is " + Json.describe(e.getValue()) + "; expected a string");
            }
            metadata.put((String) e.getKey(), s);
        }
        return Collections.unmodifiableMap(metadata);
    }

    private static TensorInfo parseEntry(String name, Object value, long dataSize, String file)
            throws SafetensorsFormatException {
        String where = file + ": tensor " + Json.quote(name) + ": ";
        if (!(value instanceof Map<?, ?> fields)) {
            throw new SafetensorsFormatException(where + "the entry is " + Json.describe(value)
                    + "; expected an object with the fields " + FIELD_LIST);
        }
        for (String f : FIELDS) {
            if (!fields.containsKey(f)) {
                throw new SafetensorsFormatException(where + "missing field \"" + f + "\"; expected the fields "
                        + FIELD_LIST);
            }
        }
        for (Object f : fields.keySet()) {
            if (!FIELDS.contains(f)) {
                throw new SafetensorsFormatException(where + "unexpected field " + Json.quote((String) f)
                        + "; expected exactly the fields " + FIELD_LIST);
            }
        }
        DType dtype = parseDtype(fields.get("dtype"), where);
        Shape shape = parseShape(fields.get("shape"), where);
        long[] offsets = parseOffsets(fields.get("data_offsets"), dataSize, where);
        long expected;
        try {
            expected = Math.multiplyExact(shape.numel(), (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new SafetensorsFormatException(where + dtype.safetensorsName() + " " + shape
                    + " needs more than 2^63 bytes; expected a shape that fits in the file");
        }
        if (offsets[1] - offsets[0] != expected) {
            throw new SafetensorsFormatException(where + "data_offsets [" + offsets[0] + ", " + offsets[1] + "] span "
                    + (offsets[1] - offsets[0]) + " bytes; expected " + expected + " for " + dtype.safetensorsName()
                    + " " + shape + " (" + shape.numel() + " elements of " + dtype.byteSize() + " bytes)");
        }
        return new TensorInfo(dtype, shape, offsets[0], offsets[1]);
    }

    private static DType parseDtype(Object value, String where) throws SafetensorsFormatException {
        if (value instanceof String name) {
            for (DType t : DType.values()) {
                if (t.safetensorsName().equals(name)) {
                    return t;
                }
            }
        }
        String supported = Arrays.stream(DType.values()).map(DType::safetensorsName).collect(Collectors.joining(", "));
        throw new SafetensorsFormatException(where + "dtype " + Json.describe(value) + " is not supported; expected one of "
                + supported);
    }

    private static Shape parseShape(Object value, String where) throws SafetensorsFormatException {
        if (!(value instanceof List<?> dims)) {
            throw new SafetensorsFormatException(where + "shape is " + Json.describe(value)
                    + "; expected an array of non-negative integers");
        }
        long[] d = new long[dims.size()];
        for (int i = 0; i < d.length; i++) {
            Object v = dims.get(i);
            if (!(v instanceof Long n) || n < 0 || n > Integer.MAX_VALUE) {
                throw new SafetensorsFormatException(where + "shape " + Json.render(dims, MESSAGE_LIMIT) + ": dimension "
                        + i + " is " + Json.describe(v) + "; expected an integer in [0, " + Integer.MAX_VALUE + "]");
            }
            d[i] = n;
        }
        try {
            return Shape.of(d);
        } catch (ArithmeticException e) {
            throw new SafetensorsFormatException(where + "shape " + Json.render(dims, MESSAGE_LIMIT)
                    + " has more than 2^63 elements; expected a shape that fits in the file");
        }
    }

    private static long[] parseOffsets(Object value, long dataSize, String where) throws SafetensorsFormatException {
        if (!(value instanceof List<?> pair) || pair.size() != 2
                || !(pair.get(0) instanceof Long begin) || !(pair.get(1) instanceof Long end)) {
            throw new SafetensorsFormatException(where + "data_offsets is "
                    + (value instanceof List<?> ? Json.render(value, MESSAGE_LIMIT) : Json.describe(value))
                    + "; expected an array of two integers [begin, end]");
        }
        if (begin < 0 || begin > end || end > dataSize) {
            throw new SafetensorsFormatException(where + "data_offsets [" + begin + ", " + end + "]; expected 0 <= begin <= end"
                    + " <= " + dataSize + ", the size of the data section");
        }
        return new long[] {begin, end};
    }

    /** The tensors' byte ranges, sorted, must tile {@code [0, dataSize)}. */
    private static void checkCoverage(Map<String, TensorInfo> tensors, long dataSize, String file)
            throws SafetensorsFormatException {
        List<Map.Entry<String, TensorInfo>> byOffset = new ArrayList<>(tensors.entrySet());
        byOffset.sort(Comparator.comparingLong((Map.Entry<String, TensorInfo> e) -> e.getValue().begin())
                .thenComparingLong(e -> e.getValue().end()));
        long covered = 0;
        Map.Entry<String, TensorInfo> previous = null;
        for (Map.Entry<String, TensorInfo> e : byOffset) {
            TensorInfo t = e.getValue();
            if (t.begin() < covered) {
                TensorInfo p = previous.getValue();
                throw new SafetensorsFormatException(file + ": tensors " + Json.quote(previous.getKey()) + " (bytes ["
                        + p.begin() + ", " + p.end() + ")) and " + Json.quote(e.getKey()) + " (bytes [" + t.begin() + ", "
                        + t.end() + ")) overlap; expected each byte of the data section to belong to one tensor");
            }
            if (t.begin() > covered) {
                throw new SafetensorsFormatException(file + ": bytes [" + covered + ", " + t.begin() + ") of the data "
                        + "section, before tensor " + Json.quote(e.getKey()) + ", belong to no tensor; expected the tensors "
                        + "to cover the data section without gaps, as the reference safetensors implementation requires");
            }
            covered = t.end();
            previous = e;
        }
        if (covered != dataSize) {
            throw new SafetensorsFormatException(file + ": the data section is " + dataSize + " bytes but the tensors cover "
                    + "only [0, " + covered + "); expected them to cover it to its end, as the reference safetensors "
                    + "implementation requires");
        }
    }

    /**
     * The header bytes for the given entries, as compact JSON in UTF-8: {@code __metadata__} first
     * when {@code metadata} is not empty, then the tensors in map order. Padded with spaces (JSON
     * whitespace) so that the data section starts a multiple of {@link #DATA_ALIGNMENT} bytes into
     * the file, which keeps 8-byte elements of a mapped file aligned.
     *
     * @throws IllegalArgumentException when a tensor is named {@value #METADATA_KEY} or a string is
     *                                  not valid Unicode
     */
    static byte[] encode(Map<String, TensorInfo> tensors, Map<String, String> metadata) {
        StringBuilder sb = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            sb.append(Json.quote(METADATA_KEY)).append(":{");
            String sep = "";
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                sb.append(sep).append(Json.quote(e.getKey())).append(':').append(Json.quote(e.getValue()));
                sep = ",";
            }
            sb.append('}');
        }
        for (Map.Entry<String, TensorInfo> e : tensors.entrySet()) {
            if (e.getKey().equals(METADATA_KEY)) {
                throw new IllegalArgumentException("safetensors header: the name " + METADATA_KEY
                        + " is reserved for metadata; expected another tensor name");
            }
            TensorInfo t = e.getValue();
            if (sb.length() > 1) {
                sb.append(',');
            }
            sb.append(Json.quote(e.getKey())).append(":{\"dtype\":").append(Json.quote(t.dtype().safetensorsName()))
                    .append(",\"shape\":[");
            for (int i = 0; i < t.shape().rank(); i++) {
                sb.append(i > 0 ? "," : "").append(t.shape().dim(i));
            }
            sb.append("],\"data_offsets\":[").append(t.begin()).append(',').append(t.end()).append("]}");
        }
        sb.append('}');
        byte[] json = sb.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (8 + json.length + DATA_ALIGNMENT - 1) / DATA_ALIGNMENT * DATA_ALIGNMENT - 8;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }
}
