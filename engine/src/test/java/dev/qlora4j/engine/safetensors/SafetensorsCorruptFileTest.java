package dev.qlora4j.engine.safetensors;

import dev.qlora4j.json.JsonException;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every way {@link SafetensorsFile#open} is told a file is malformed, each with a message that says where and why. */
class SafetensorsCorruptFileTest {
    private static final String F32_2 = "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

    @TempDir
    Path dir;

    /** Opens a file made of {@code header} and {@code data}, expects it rejected, and checks the message. */
    private SafetensorsFormatException rejected(String header, byte[] data, String... fragments) throws IOException {
        return rejected(HandMadeFiles.write(dir, header, data), fragments);
    }

    private static SafetensorsFormatException rejected(Path file, String... fragments) {
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> SafetensorsFile.open(file).close());
        assertTrue(e.getMessage().startsWith(file.toString() + ": "), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "expected \"" + f + "\" in: " + e.getMessage());
        }
        return e;
    }

    // ---- the length field -------------------------------------------------------------------------

    @Test
    void fileShorterThanTheLengthField() throws IOException {
        rejected(Files.write(dir.resolve("empty.safetensors"), new byte[0]), "the file is 0 bytes; expected at least 8");
        rejected(Files.write(dir.resolve("seven.safetensors"), new byte[7]), "the file is 7 bytes; expected at least 8");
    }

    @Test
    void headerLengthPastTheEndOfFile() throws IOException {
        Path file = Files.write(dir.resolve("long.safetensors"), HandMadeFiles.bytes(100, "{}".getBytes(), new byte[8]));
        rejected(file, "the header length field says 100 bytes, but the file has only 10 bytes after it");
    }

    @Test
    void hostileHeaderLengthsFailBeforeAnyAllocation() throws IOException {
        Path top = Files.write(dir.resolve("top.safetensors"), HandMadeFiles.bytes(Long.MIN_VALUE, "{}".getBytes(), new byte[0]));
        rejected(top, "says 9223372036854775808 bytes, but the file has only 2 bytes after it");
        Path all = Files.write(dir.resolve("all.safetensors"), HandMadeFiles.bytes(-1L, "{}".getBytes(), new byte[0]));
        rejected(all, "says 18446744073709551615 bytes");
        Path max = Files.write(dir.resolve("max.safetensors"), HandMadeFiles.bytes(Long.MAX_VALUE, "{}".getBytes(), new byte[0]));
        rejected(max, "says 9223372036854775807 bytes");
    }

    @Test
    void headerLengthAboveTheLimitEvenWhenTheFileIsThatLong() throws IOException {
        // A sparse file: long enough to hold the claimed header, without writing 100 MB.
        Path file = dir.resolve("huge.safetensors");
        long claimed = SafetensorsFile.MAX_HEADER_BYTES + 1;
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.write(HandMadeFiles.bytes(claimed, new byte[0], new byte[0]));
            f.setLength(8 + claimed);
        }
        rejected(file, "says 100000001 bytes; expected at most 100000000");
    }

    // ---- the header as JSON -----------------------------------------------------------------------

    @Test
    void headerThatIsNotJson() throws IOException {
        SafetensorsFormatException e = rejected("{not json}", new byte[0],
                "the header is not valid UTF-8 JSON: at header byte 1 (file offset 9): expected a string key in object, found 'n'");
        assertInstanceOf(JsonException.class, e.getCause());
        rejected("", new byte[0], "at header byte 0 (file offset 8): expected a value, found end of input");
        rejected("{\"w\":" + F32_2 + "}x", new byte[8], "expected end of input after the JSON value, found 'x'");
    }

    @Test
    void headerThatIsNotAnObject() throws IOException {
        rejected("[]", new byte[0], "the header is an array; expected a JSON object mapping tensor names to {dtype, shape, data_offsets}");
        rejected("\"F32\"", new byte[0], "the header is the string \"F32\"; expected a JSON object");
    }

    @Test
    void headerThatIsNotUtf8() throws IOException {
        byte[] header = "{\"w\u00e9\":{}}".getBytes(StandardCharsets.ISO_8859_1);
        Path file = Files.write(dir.resolve("latin1.safetensors"), HandMadeFiles.bytes(header.length, header, new byte[0]));
        rejected(file, "at header byte 4 (file offset 12): invalid UTF-8 in the sequence that starts at byte 3 with 0xE9");
    }

    @Test
    void duplicateTensorNames() throws IOException {
        rejected("{\"w\":" + F32_2 + ",\"w\":" + F32_2 + "}", new byte[8], "duplicate key \"w\" in object");
    }

    // ---- tensor entries ---------------------------------------------------------------------------

    @Test
    void entryThatIsNotAnObject() throws IOException {
        rejected("{\"w\":5}", new byte[0], "tensor \"w\": the entry is the number 5; expected an object with the fields dtype, shape, data_offsets");
    }

    @Test
    void missingFields() throws IOException {
        rejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", new byte[8], "tensor \"w\": missing field \"data_offsets\"");
        rejected("{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[8], "tensor \"w\": missing field \"dtype\"");
        rejected("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", new byte[8], "tensor \"w\": missing field \"shape\"");
    }

    @Test
    void extraField() throws IOException {
        rejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"offset\":0}}", new byte[8],
                "tensor \"w\": unexpected field \"offset\"; expected exactly the fields dtype, shape, data_offsets");
    }

    @Test
    void unknownDtype() throws IOException {
        rejected("{\"w\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", new byte[8],
                "tensor \"w\": dtype the string \"F64\" is not supported; expected one of F32, BF16, F16, I8, U8, I32");
        rejected("{\"w\":{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[8], "\"f32\" is not supported");
        rejected("{\"w\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[8], "dtype the number 4 is not supported");
    }

    @Test
    void badShapes() throws IOException {
        rejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,-1],\"data_offsets\":[0,8]}}", new byte[8],
                "tensor \"w\": shape [2,-1]: dimension 1 is the number -1; expected an integer in [0, 2147483647]");
        rejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,8]}}", new byte[8], "dimension 0 is the number 1.5");
        rejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", new byte[8], "dimension 0 is the number 2.0");
        rejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", new byte[8], "dimension 0 is the string \"2\"");
        rejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[2147483648],\"data_offsets\":[0,8]}}", new byte[8],
                "dimension 0 is the number 2147483648; expected an integer in [0, 2147483647]");
        rejected("{\"w\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", new byte[8],
                "tensor \"w\": shape is the number 2; expected an array of non-negative integers");
    }

    @Test
    void shapesTooLargeForAnyFile() throws IOException {
        int m = Integer.MAX_VALUE;
        rejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[" + m + "," + m + "," + m + "],\"data_offsets\":[0,8]}}", new byte[8],
                "has more than 2^63 elements");
        rejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[" + m + "," + m + ",2],\"data_offsets\":[0,8]}}", new byte[8],
                "F32 [2147483647, 2147483647, 2] needs more than 2^63 bytes");
    }

    @Test
    void dataOffsetsThatAreNotTwoIntegers() throws IOException {
        String expected = "; expected an array of two integers [begin, end]";
        for (String offsets : new String[] {"[0]", "[0,4,8]", "[]", "[\"0\",8]", "[0,8.0]", "[0,null]"}) {
            rejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":" + offsets + "}}", new byte[8],
                    "tensor \"w\": data_offsets is " + offsets + expected);
        }
        rejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":\"0-8\"}}", new byte[8],
                "data_offsets is the string \"0-8\"" + expected);
        rejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,18446744073709551616]}}", new byte[8],
                "data_offsets is [0,18446744073709551616]" + expected);
    }

    @Test
    void dataOffsetsOutOfOrderOrOutOfTheFile() throws IOException {
        String bounds = "; expected 0 <= begin <= end <= 8, the size of the data section";
        rejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", new byte[8],
                "tensor \"w\": data_offsets [8, 0]" + bounds);
        rejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", new byte[8], "data_offsets [0, 16]" + bounds);
        rejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", new byte[8], "data_offsets [-8, 0]" + bounds);
    }

    @Test
    void byteRangeThatDoesNotMatchTheShape() throws IOException {
        rejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", new byte[4],
                "tensor \"w\": data_offsets [0, 4] span 4 bytes; expected 8 for F32 [2] (2 elements of 4 bytes)");
        rejected("{\"w\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[0,4]}}", new byte[4],
                "span 4 bytes; expected 2 for BF16 [] (1 elements of 2 bytes)");
    }

    // ---- how the tensors share the data section --------------------------------------------------

    @Test
    void overlappingTensors() throws IOException {
        rejected("{\"a\":" + F32_2 + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12],
                "tensors \"a\" (bytes [0, 8)) and \"b\" (bytes [4, 12)) overlap");
        rejected("{\"a\":" + F32_2 + ",\"b\":" + F32_2 + "}", new byte[8], "tensors \"a\" (bytes [0, 8)) and \"b\" (bytes [0, 8)) overlap");
    }

    @Test
    void gapBetweenTensors() throws IOException {
        rejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", new byte[12],
                "bytes [4, 8) of the data section, before tensor \"b\", belong to no tensor",
                "as the reference safetensors implementation requires");
        rejected("{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8],
                "bytes [0, 4) of the data section, before tensor \"b\", belong to no tensor");
    }

    @Test
    void bytesAfterTheLastTensor() throws IOException {
        rejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[8],
                "the data section is 8 bytes but the tensors cover only [0, 4)");
        rejected("{}", new byte[1], "the data section is 1 bytes but the tensors cover only [0, 0)");
    }

    // ---- metadata ---------------------------------------------------------------------------------

    @Test
    void metadataValuesThatAreNotStrings() throws IOException {
        rejected("{\"__metadata__\":{\"format\":\"pt\",\"step\":100}}", new byte[0],
                "__metadata__ entry \"step\" is the number 100; expected a string");
        rejected("{\"__metadata__\":{\"nested\":{}}}", new byte[0], "__metadata__ entry \"nested\" is an object");
        rejected("{\"__metadata__\":[\"pt\"]}", new byte[0], "__metadata__ is an array; expected an object whose values are strings");
        rejected("{\"__metadata__\":null}", new byte[0], "__metadata__ is null");
    }

    @Test
    void aMissingFileIsNotAFormatError() {
        assertThrows(NoSuchFileException.class, () -> SafetensorsFile.open(dir.resolve("absent.safetensors")));
    }
}
