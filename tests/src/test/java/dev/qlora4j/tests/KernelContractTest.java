package dev.qlora4j.tests;

import dev.qlora4j.engine.BinaryOp;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.ReduceOp;
import dev.qlora4j.engine.UnaryOp;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The CUDA kernel contract, written in the headers of kernels.cu and dequant.cu, against the Java
 * side: each code table lists the Java enum's constants by ordinal (the int a kernel receives), and
 * the kernels a source defines are exactly those its header lists, the Java code launches and the
 * host emulator registers. A renamed kernel or a reordered enum fails here instead of on a GPU.
 */
class KernelContractTest {
    private static final String ENGINE_KERNELS = "engine-cuda/src/main/resources/dev/qlora4j/engine/cuda/kernels.cu";
    private static final String NF4_KERNELS = "nf4/src/main/resources/dev/qlora4j/nf4/cuda/dequant.cu";
    private static final Map<String, List<String>> ENUMS = Map.of(
            "DType", names(DType.values()), "UnaryOp", names(UnaryOp.values()),
            "BinaryOp", names(BinaryOp.values()), "ReduceOp", names(ReduceOp.values()));
    /** A code-table line of a header: {@code //   UnaryOp:  0 NEG, 1 ABS, ...}. */
    private static final Pattern TABLE = Pattern.compile("^//   (\\w+):\\s+(\\d.*)$", Pattern.MULTILINE);
    private static final Pattern DEFINED = Pattern.compile("extern \"C\" __global__ void (\\w+)\\(");
    private static final Pattern LAUNCHED = Pattern.compile("\\.launch(?:Rows)?\\([^,]+, \"(\\w+)\"");

    @Test
    void engineCodeTablesListEveryEnumConstantByOrdinal() throws IOException {
        Map<String, List<String>> tables = tables(read(ENGINE_KERNELS));
        assertEquals(ENUMS.keySet(), tables.keySet(), "the code tables of kernels.cu");
        tables.forEach((name, codes) -> assertEquals(ENUMS.get(name), codes, name + " codes in kernels.cu"));
    }

    @Test
    void dequantCodesAreDTypeOrdinals() throws IOException {
        Map<String, List<String>> tables = tables(read(NF4_KERNELS));
        List<String> dtypes = tables.get("DType");
        // dequant.cu writes F32 and BF16 only: its table is the enum's first constants.
        assertEquals(List.of("F32", "BF16"), dtypes, "dequant.cu's DType codes");
        assertEquals(ENUMS.get("DType").subList(0, dtypes.size()), dtypes, "dequant.cu's DType codes are ordinals");
    }

    @Test
    void engineKernelsAreListedLaunchedAndEmulated() throws IOException {
        String source = read(ENGINE_KERNELS);
        Set<String> defined = matches(DEFINED, source);
        assertEquals(defined, listedInHeader(source), "kernels.cu's header lists the kernels it defines");
        assertEquals(defined, launchedIn("engine-cuda/src/main/java/dev/qlora4j/engine/cuda"),
                "kernels CudaBackend launches");
        assertEquals(defined, emulated("engine_kernels"), "kernels the host emulator registers");
    }

    @Test
    void dequantKernelsAreLaunchedAndEmulated() throws IOException {
        Set<String> defined = matches(DEFINED, read(NF4_KERNELS));
        assertFalse(defined.isEmpty());
        assertEquals(defined, launchedIn("nf4/src/main/java/dev/qlora4j/nf4"), "kernels nf4 launches");
        assertEquals(defined, emulated("nf4_kernels"), "kernels the host emulator registers");
    }

    private static Map<String, List<String>> tables(String source) {
        Map<String, List<String>> tables = new LinkedHashMap<>();
        Matcher m = TABLE.matcher(source);
        while (m.find()) {
            List<String> names = new ArrayList<>();
            String[] entries = m.group(2).split(",");
            for (int i = 0; i < entries.length; i++) {
                String[] codeAndName = entries[i].trim().split("\\s+");
                assertEquals(String.valueOf(i), codeAndName[0], m.group(1) + " table entry " + entries[i].trim()
                        + ": codes must count from 0 in order");
                names.add(codeAndName[1]);
            }
            tables.put(m.group(1), names);
        }
        return tables;
    }

    /** The names in the header's "grid-stride:" and "row:" kernel lists, which may wrap over lines. */
    private static Set<String> listedInHeader(String source) {
        int from = source.indexOf("//   grid-stride:");
        int to = source.indexOf("\n//\n", from);
        String list = source.substring(from, to).replace("//", " ").replace("grid-stride:", " ").replace("row:", " ");
        return Arrays.stream(list.split("[,\\s]+")).filter(s -> !s.isEmpty()).collect(Collectors.toCollection(TreeSet::new));
    }

    private static Set<String> launchedIn(String javaDir) throws IOException {
        Set<String> launched = new TreeSet<>();
        try (Stream<Path> files = Files.list(root().resolve(javaDir))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                launched.addAll(matches(LAUNCHED, Files.readString(f)));
            }
        }
        return launched;
    }

    private static Set<String> emulated(String namespace) throws IOException {
        String host = read("cuda/emulator/kernels_host.cpp");
        int from = host.indexOf("namespace " + namespace + " {");
        int to = host.indexOf("}  // namespace " + namespace, from);
        return matches(Pattern.compile("QL_REGISTER\\((\\w+)\\)"), host.substring(from, to));
    }

    private static Set<String> matches(Pattern p, String text) {
        Set<String> found = new TreeSet<>();
        Matcher m = p.matcher(text);
        while (m.find()) {
            found.add(m.group(1));
        }
        return found;
    }

    private static String read(String path) throws IOException {
        return Files.readString(root().resolve(path));
    }

    private static Path root() {
        return SourceTree.root().orElseGet(() -> {
            Assumptions.abort("the kernel contract is checked in the source tree; none above " + Path.of("").toAbsolutePath());
            return null;
        });
    }

    private static List<String> names(Enum<?>[] values) {
        return Arrays.stream(values).map(Enum::name).toList();
    }
}
