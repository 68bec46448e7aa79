package dev.qlora4j.engine.safetensors;

import dev.qlora4j.engine.AtomicFiles;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.Tensor;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes tensors to a safetensors file, all or nothing: the bytes go to a temporary file in the
 * target's directory, which then replaces the target in one atomic rename. A reader of the target
 * sees the old file or the complete new one, never a partial write; when writing fails, the
 * temporary file is deleted and the target is untouched.
 *
 * <p>The header lists {@code __metadata__} first (when there is metadata), then the tensors in the
 * map's iteration order, stored one after the other in that order, each in row-major order; the
 * data section starts 8-byte aligned. Element bytes are written as they lie in memory, which on
 * the engine's little-endian hosts is the little-endian order the format prescribes.
 */
public final class SafetensorsWriter {
    /** Bytes handed to one channel write: a ByteBuffer cannot view more than 2^31 - 1. */
    private static final long CHUNK = 1L << 30;

    private SafetensorsWriter() {
    }

    /** {@link #write(Path, Map, Map)} without metadata. */
    public static void write(Path target, Map<String, Tensor> tensors) throws IOException {
        write(target, tensors, Map.of());
    }

    /**
     * Writes {@code tensors} and {@code metadata} to {@code target}, replacing it atomically if it
     * exists. Non-contiguous tensors, and tensors on a device, are written from a contiguous host
     * copy, freed before returning. The tensors are only read; the caller still owns them.
     *
     * @param target   the file to create or replace; its directory must exist
     * @param tensors  name to tensor, in the order to store them
     * @param metadata free-form string pairs for the header's {@code __metadata__}; may be empty
     * @throws IllegalArgumentException when a name is {@code __metadata__}, a name or value is null, or the
     *                                  header would exceed what readers accept
     *                                  ({@link SafetensorsFile#MAX_HEADER_BYTES})
     * @throws IllegalStateException    when a tensor is closed
     * @throws IOException              when the file cannot be written or renamed
     */
    public static void write(Path target, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        String op = "SafetensorsWriter.write(" + target + ")";
        byte[] header = SafetensorsHeader.encode(layout(op, tensors, metadata), metadata);
        if (header.length > SafetensorsFile.MAX_HEADER_BYTES) {
            throw new IllegalArgumentException(op + ": the header would be " + header.length + " bytes; expected at most "
                    + SafetensorsFile.MAX_HEADER_BYTES + ", the most a reader accepts");
        }
        Path file = target.toAbsolutePath();
        Path tmp = AtomicFiles.temporaryBeside(file);
        try {
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).flip();
                writeFully(channel, length);
                writeFully(channel, ByteBuffer.wrap(header));
                for (Tensor t : tensors.values()) {
                    // Host bytes: a tensor on a device is copied over first.
                    try (Tensor c = t.to(Device.CPU)) {
                        writeFully(channel, c.segment().asSlice(c.byteOffset(), c.numel() * c.dtype().byteSize()));
                    }
                }
                // On disk before the rename makes it visible, so a crash cannot leave a renamed but empty file.
                channel.force(true);
            }
            AtomicFiles.commit(tmp, file);
        } catch (Throwable t) {
            try {
                AtomicFiles.discard(tmp);
            } catch (IOException suppressed) {
                t.addSuppressed(suppressed);
            }
            throw t;
        }
    }

    /** Each tensor's header entry: its bytes follow those of the previous one. */
    private static Map<String, TensorInfo> layout(String op, Map<String, Tensor> tensors, Map<String, String> metadata) {
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            if (e.getKey() == null || e.getValue() == null) {
                throw new IllegalArgumentException(op + ": metadata " + e.getKey() + " -> " + e.getValue()
                        + "; expected non-null strings");
            }
        }
        Map<String, TensorInfo> layout = new LinkedHashMap<>();
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            if (e.getKey() == null || t == null) {
                throw new IllegalArgumentException(op + ": entry " + e.getKey() + " -> " + t
                        + "; expected a name and a tensor");
            }
            long end = offset + t.numel() * t.dtype().byteSize();
            layout.put(e.getKey(), new TensorInfo(t.dtype(), t.shape(), offset, end));
            offset = end;
        }
        return layout;
    }

    private static void writeFully(FileChannel channel, MemorySegment bytes) throws IOException {
        for (long at = 0; at < bytes.byteSize(); at += CHUNK) {
            writeFully(channel, bytes.asSlice(at, Math.min(CHUNK, bytes.byteSize() - at)).asByteBuffer());
        }
    }

    private static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }
}
