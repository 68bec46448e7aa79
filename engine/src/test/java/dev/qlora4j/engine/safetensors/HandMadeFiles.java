package dev.qlora4j.engine.safetensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Safetensors files assembled byte by byte, independently of {@link SafetensorsWriter}, so that the
 * reader is checked against the format and not only against our writer.
 */
final class HandMadeFiles {
    private HandMadeFiles() {
    }

    /** An 8-byte little-endian {@code headerLength}, then {@code header}, then {@code data}. */
    static byte[] bytes(long headerLength, byte[] header, byte[] data) {
        return ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(headerLength).put(header).put(data).array();
    }

    /** A file whose length field is the true length of {@code header} in UTF-8. */
    static Path write(Path dir, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return Files.write(dir.resolve("hand-made.safetensors"), bytes(h.length, h, data));
    }

    /** Little-endian bytes of the given floats. */
    static byte[] floats(float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }
}
