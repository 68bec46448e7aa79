package dev.qlora4j.engine.safetensors;

import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.json.Json;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A safetensors file opened for reading: the whole file memory-mapped read-only, its header
 * validated, its tensors handed out as views of the mapping, with no copy.
 *
 * <p>Layout: an unsigned 64-bit little-endian header length {@code N}, {@code N} bytes of UTF-8
 * JSON (see {@link SafetensorsHeader}), then the data section. {@link #open} checks everything
 * before returning, so a malformed or hostile file fails there with a
 * {@link SafetensorsFormatException}, never later and never with an {@link OutOfMemoryError}.
 *
 * <p>Ownership: the mapping belongs to this object; tensors from {@link #tensor} view it and live no
 * longer than it: after {@link #close()} reading them throws {@link IllegalStateException}.
 * Closing such a tensor does not unmap anything. The tensors are read-only: writing to one throws
 * the {@link IllegalArgumentException} that FFM throws for read-only memory. Their bytes are used
 * as they lie in the file, which is little-endian, the byte order of the hosts the engine runs on.
 *
 * <p>Thread-safety: the mapping may be read from any thread (the CPU backend's pool reads it), and
 * every method may be called concurrently; {@link #close()} must not race with reads of its
 * tensors.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** The largest header accepted, in bytes: the limit of the reference (Rust) implementation. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final ValueLayout.OfLong U64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Arena arena;
    private final MemorySegment data;
    private final SafetensorsHeader header;
    private volatile boolean closed;

    private SafetensorsFile(Path path, Arena arena, MemorySegment data, SafetensorsHeader header) {
        this.path = path;
        this.arena = arena;
        this.data = data;
        this.header = header;
    }

    /**
     * Maps and validates a safetensors file.
     *
     * @throws SafetensorsFormatException when the file breaks the format: too short, a header
     *                                    length past its end or above {@link #MAX_HEADER_BYTES},
     *                                    a header that is not a UTF-8 JSON object of well-formed
     *                                    entries, or tensors whose byte ranges do not tile the
     *                                    data section
     * @throws IOException                when the file cannot be opened or mapped
     */
    public static SafetensorsFile open(Path path) throws IOException {
        // Shared, not confined: kernels read tensors from the CPU backend's worker threads.
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < 8) {
                throw new SafetensorsFormatException(path + ": the file is " + size
                        + " bytes; expected at least 8, the header length field");
            }
            MemorySegment file = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            long headerLength = file.get(U64_LE, 0);
            // Unsigned comparison: a hostile length of 2^63 or more reads as negative here.
            if (Long.compareUnsigned(headerLength, size - 8) > 0) {
                throw new SafetensorsFormatException(path + ": the header length field says "
                        + Long.toUnsignedString(headerLength) + " bytes, but the file has only " + (size - 8)
                        + " bytes after it; expected a length that fits in the file");
            }
            if (headerLength > MAX_HEADER_BYTES) {
                throw new SafetensorsFormatException(path + ": the header length field says " + headerLength
                        + " bytes; expected at most " + MAX_HEADER_BYTES);
            }
            byte[] json = file.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE);
            MemorySegment data = file.asSlice(8 + headerLength);
            SafetensorsHeader header = SafetensorsHeader.parse(json, data.byteSize(), path.toString());
            return new SafetensorsFile(path, arena, data, header);
        } catch (Throwable t) {
            arena.close();
            throw t;
        }
    }

    /** The file this was opened from. */
    public Path path() {
        return path;
    }

    /** The tensor names, in the order the header lists them. Unmodifiable. */
    public List<String> names() {
        return List.copyOf(header.tensors().keySet());
    }

    /** Whether the header lists a tensor named {@code name}; works after close. */
    public boolean contains(String name) {
        return header.tensors().containsKey(name);
    }

    /**
     * A tensor's dtype, shape and byte range, as the header gives them; works after close.
     *
     * @throws IllegalArgumentException when the file holds no tensor of that name
     */
    public TensorInfo info(String name) {
        TensorInfo t = header.tensors().get(name);
        if (t == null) {
            throw new IllegalArgumentException("SafetensorsFile.info: " + missing(name));
        }
        return t;
    }

    /**
     * A CPU tensor viewing the named tensor's bytes in the mapping: no copy, read-only, readable
     * until this file is closed. The caller closes it (or its scope does); that releases nothing
     * of the file.
     *
     * @throws IllegalArgumentException when the file holds no tensor of that name
     * @throws IllegalStateException    when this file is closed
     */
    public Tensor tensor(String name) {
        if (closed) {
            throw new IllegalStateException("SafetensorsFile.tensor(\"" + name + "\"): " + path + " is closed");
        }
        TensorInfo t = header.tensors().get(name);
        if (t == null) {
            throw new IllegalArgumentException("SafetensorsFile.tensor: " + missing(name));
        }
        return Tensor.wrap(data.asSlice(t.begin(), t.byteSize()), t.dtype(), t.shape(), Device.CPU);
    }

    /** The header's {@code __metadata__} entries, in file order; empty when it has none. Unmodifiable. */
    public Map<String, String> metadata() {
        return header.metadata();
    }

    /** Unmaps the file; tensors viewing it become unreadable. Idempotent. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }

    private String missing(String name) {
        List<String> names = names();
        String some = names.stream().limit(5).map(Json::quote).collect(Collectors.joining(", "));
        return "no tensor named \"" + name + "\" in " + path + "; it holds " + names.size() + " tensor"
                + (names.size() == 1 ? "" : "s")
                + (names.isEmpty() ? "" : ": " + some + (names.size() > 5 ? ", ..." : ""));
    }
}
