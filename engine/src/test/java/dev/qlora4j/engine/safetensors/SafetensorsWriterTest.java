package dev.qlora4j.engine.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.Shape;
import dev.qlora4j.engine.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writing: the bytes against the format's rules, read by hand, and the all-or-nothing replacement. */
class SafetensorsWriterTest {
    @TempDir
    Path dir;

    /** The file's bytes checked by hand against the format, not by reading them back with our reader. */
    @Test
    void writtenBytesFollowTheFormat() throws IOException {
        Path file = dir.resolve("small.safetensors");
        try (Tensor a = Tensor.of(new float[] {1f, -2f}, 2); Tensor b = Tensor.of(DType.U8, new float[] {1, 2, 3}, 3)) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            tensors.put("a", a);
            tensors.put("b", b);
            SafetensorsWriter.write(file, tensors, Map.of("format", "pt"));
        }
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long n = in.getLong(0);
        String json = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[8,11]}}";
        assertEquals(0, (8 + n) % 8, "the data section starts 8-byte aligned");
        assertTrue(n >= json.length() && n < json.length() + 8, "padding is less than the alignment: " + n);
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertEquals(json + " ".repeat((int) n - json.length()), header, "compact JSON, then spaces");
        byte[] data = Arrays.copyOfRange(bytes, 8 + (int) n, bytes.length);
        assertArrayEquals(new byte[] {0, 0, (byte) 0x80, 0x3F, 0, 0, 0, (byte) 0xC0, 1, 2, 3}, data,
                "F32 1.0 and -2.0 little-endian at [0, 8), then U8 1 2 3 at [8, 11), and nothing after");
    }

    @Test
    void theDataSectionIsAlignedWhateverTheHeaderLength() throws IOException {
        for (int len = 1; len <= 16; len++) {
            Path file = dir.resolve("align" + len + ".safetensors");
            try (Tensor t = Tensor.of(new float[] {len}, 1)) {
                SafetensorsWriter.write(file, Map.of("x".repeat(len), t));
            }
            byte[] bytes = Files.readAllBytes(file);
            long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
            assertEquals(0, (8 + n) % 8, "name of length " + len);
            assertEquals(8 + n + 4, bytes.length);
            try (SafetensorsFile f = SafetensorsFile.open(file); Tensor t = f.tensor("x".repeat(len))) {
                assertEquals(len, t.getFlat(0));
            }
        }
    }

    @Test
    void nonAsciiNamesAreWrittenAsUtf8() throws IOException {
        Path file = dir.resolve("unicode.safetensors");
        String name = "caf\u00e9.\uD83D\uDE00";
        try (Tensor t = Tensor.of(new float[] {3}, 1)) {
            SafetensorsWriter.write(file, Map.of(name, t));
        }
        String header = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        assertTrue(header.contains("\"" + name + "\":{\"dtype\""), header);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(List.of(name), f.names());
        }
    }

    @Test
    void replacesAnExistingFile() throws IOException {
        Path file = dir.resolve("model.safetensors");
        try (Tensor old = Tensor.of(new float[] {1, 2, 3}, 3)) {
            SafetensorsWriter.write(file, Map.of("old", old));
        }
        try (Tensor fresh = Tensor.of(new float[] {9}, 1)) {
            SafetensorsWriter.write(file, Map.of("new", fresh));
        }
        try (SafetensorsFile f = SafetensorsFile.open(file); Tensor t = f.tensor("new")) {
            assertEquals(List.of("new"), f.names());
            assertEquals(9f, t.getFlat(0));
        }
        assertEquals(List.of(file), filesIn(dir));
    }

    @Test
    void aFailedWriteLeavesTheOldFileAndNoTemporaryFile() throws IOException {
        Path file = dir.resolve("model.safetensors");
        try (Tensor old = Tensor.of(new float[] {1, 2, 3}, 3)) {
            SafetensorsWriter.write(file, Map.of("old", old));
        }
        byte[] before = Files.readAllBytes(file);
        try (Tensor good = Tensor.of(new float[] {4, 5}, 2)) {
            Tensor closed = Tensor.of(new float[] {6}, 1);
            closed.close();
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            tensors.put("good", good);
            tensors.put("closed", closed);
            // The closed tensor is met after the header and the first tensor went to the temporary file.
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> SafetensorsWriter.write(file, tensors));
            assertTrue(e.getMessage().contains("is closed"), e.getMessage());
        }
        assertArrayEquals(before, Files.readAllBytes(file));
        assertEquals(List.of(file), filesIn(dir), "the temporary file is gone");
    }

    @Test
    void aFailedWriteOfANewFileCreatesNothing() throws IOException {
        Tensor closed = Tensor.of(new float[] {6}, 1);
        closed.close();
        assertThrows(IllegalStateException.class, () -> SafetensorsWriter.write(dir.resolve("new.safetensors"), Map.of("c", closed)));
        assertEquals(List.of(), filesIn(dir));
    }

    @Test
    void aDeviceTensorThatCannotBeCopiedToTheHostLeavesNoFile() throws IOException {
        // The writer copies a device tensor to the host; this module's tests have no CUDA backend on
        // the class path, so that copy fails, and the failure leaves nothing behind.
        Path file = dir.resolve("gpu.safetensors");
        try (Tensor gpu = Tensor.wrap(Arena.ofAuto().allocate(4), DType.F32, Shape.of(1), Device.cuda(0))) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> SafetensorsWriter.write(file, Map.of("g", gpu)));
            assertTrue(e.getMessage().contains("qlora4j-engine-cuda"), e.getMessage());
        }
        assertFalse(Files.exists(file));
        assertEquals(List.of(), filesIn(dir));
    }

    @Test
    void theMetadataKeyIsNotATensorName() throws IOException {
        try (Tensor t = Tensor.of(new float[] {1}, 1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> SafetensorsWriter.write(dir.resolve("m.safetensors"), Map.of("__metadata__", t)));
            assertTrue(e.getMessage().contains("__metadata__ is reserved for metadata"), e.getMessage());
        }
        assertEquals(List.of(), filesIn(dir));
    }

    @Test
    void nullMetadataValuesAreRejected() throws IOException {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("k", null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SafetensorsWriter.write(dir.resolve("m.safetensors"), Map.of(), metadata));
        assertTrue(e.getMessage().endsWith("metadata k -> null; expected non-null strings"), e.getMessage());
        assertEquals(List.of(), filesIn(dir));
    }

    @Test
    void headersReadersWouldRefuseAreNotWritten() {
        String value = "x".repeat((int) SafetensorsFile.MAX_HEADER_BYTES);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SafetensorsWriter.write(dir.resolve("big.safetensors"), Map.of(), Map.of("k", value)));
        assertTrue(e.getMessage().endsWith("expected at most 100000000, the most a reader accepts"), e.getMessage());
    }

    /** The file gets the permissions of any new file (subject to the umask), not a temporary file's owner-only ones. */
    @Test
    void newFilesAreNotOwnerOnly() throws IOException {
        assumeTrue(dir.getFileSystem().supportedFileAttributeViews().contains("posix"));
        Path file = dir.resolve("perm.safetensors");
        SafetensorsWriter.write(file, Map.of());
        Set<PosixFilePermission> expected = Files.getPosixFilePermissions(Files.createFile(dir.resolve("plain")));
        expected.retainAll(PosixFilePermissions.fromString("rw-r--r--"));
        assertEquals(expected, Files.getPosixFilePermissions(file));
    }

    private static List<Path> filesIn(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }
}
