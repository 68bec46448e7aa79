package dev.qlora4j.tests;

import dev.qlora4j.autograd.llama.BaseFormat;
import dev.qlora4j.autograd.llama.LlamaConfig;
import dev.qlora4j.autograd.llama.LlamaModel;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Compiles every Java block of README.md and runs it in a JVM of its own, with the class-path flags
 * README gives, in a folder holding the files the blocks name ({@code model.safetensors}, a Llama
 * checkpoint {@code my-llama/}): a snippet that no longer compiles or runs fails here. A block's
 * {@code import} lines become the imports of a class whose {@code main} is the rest of the block.
 */
class ReadmeSnippetsTest {
    private static final Pattern JAVA_BLOCK = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL);
    private static final List<String> CLASS_PATH_FLAGS = List.of("--add-modules", "jdk.incubator.vector",
            "--enable-native-access=ALL-UNNAMED");

    @TempDir
    static Path work;
    private static Path classes;
    private static List<String> snippets;

    @BeforeAll
    static void compileTheSnippets() throws IOException {
        Path root = SourceTree.root().orElse(null);
        Assumptions.assumeTrue(root != null, "README's snippets are checked in the source tree");
        snippets = new ArrayList<>();
        Matcher m = JAVA_BLOCK.matcher(Files.readString(root.resolve("README.md")));
        while (m.find()) {
            snippets.add(m.group(1));
        }
        assertTrue(snippets.size() >= 4, "README has " + snippets.size() + " Java blocks");
        Path sources = Files.createDirectories(work.resolve("src"));
        classes = Files.createDirectories(work.resolve("classes"));
        List<String> files = new ArrayList<>();
        for (int i = 0; i < snippets.size(); i++) {
            Path f = sources.resolve(className(i) + ".java");
            Files.writeString(f, asClass(className(i), snippets.get(i)));
            files.add(f.toString());
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream errors = new ByteArrayOutputStream();
        List<String> args = new ArrayList<>(List.of("--add-modules", "jdk.incubator.vector", "-proc:none",
                "-cp", System.getProperty("java.class.path"), "-d", classes.toString()));
        args.addAll(files);
        int status = javac.run(null, errors, errors, args.toArray(String[]::new));
        assertEquals(0, status, () -> "README's Java blocks do not compile:\n" + errors.toString(StandardCharsets.UTF_8));
        writeFixtures(work);
    }

    @TestFactory
    Stream<DynamicTest> everyJavaBlockRuns() {
        return java.util.stream.IntStream.range(0, snippets.size()).mapToObj(i -> DynamicTest.dynamicTest(
                "README Java block " + (i + 1) + ": " + firstCodeLine(snippets.get(i)), () -> {
                    Run r = run(className(i), CLASS_PATH_FLAGS);
                    assertEquals(0, r.status(), () -> "block " + (i + 1) + " failed:\n" + snippets.get(i) + "\n" + r.output());
                }));
    }

    @Test
    void withoutTheVectorModuleTheFirstOpSaysWhatToAdd() throws Exception {
        Run r = run(className(0), List.of("--enable-native-access=ALL-UNNAMED"));
        assertNotEquals(0, r.status(), r.output());
        assertTrue(r.output().contains("IllegalStateException") && r.output().contains("--add-modules jdk.incubator.vector"),
                r.output());
        assertTrue(!r.output().contains("NoClassDefFoundError"), r.output());
    }

    private static String className(int i) {
        return "ReadmeBlock" + (i + 1);
    }

    private static String asClass(String name, String block) {
        StringBuilder imports = new StringBuilder();
        StringBuilder body = new StringBuilder();
        for (String line : block.split("\n", -1)) {
            (line.startsWith("import ") ? imports : body).append(line).append('\n');
        }
        return imports + "\npublic class " + name + " {\n    public static void main(String[] args) throws Exception {\n"
                + body + "    }\n}\n";
    }

    private static String firstCodeLine(String block) {
        return block.lines().filter(l -> !l.startsWith("import ") && !l.isBlank()).findFirst().orElse("").strip();
    }

    /** What the blocks read: a safetensors file with one BF16 weight, and a small Llama checkpoint in Hugging Face's layout. */
    private static void writeFixtures(Path dir) throws IOException {
        SplittableRandom r = new SplittableRandom(7);
        float[] w = new float[256 * 128];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (r.nextGaussian() * 0.02);
        }
        try (Tensor t = Tensor.of(DType.BF16, w, 256, 128)) {
            SafetensorsWriter.write(dir.resolve("model.safetensors"), Map.of("model.layers.0.mlp.up_proj.weight", t));
        }
        // TinyLlama's vocabulary size, so README's token ids are in range; everything else small.
        LlamaConfig config = new LlamaConfig(64, 2, 4, 2, 128, 32000, 10000.0, 1e-5f, false);
        try (LlamaModel model = LlamaModel.random(config, 3, BaseFormat.F32)) {
            model.saveHf(dir.resolve("my-llama"));
        }
    }

    private record Run(int status, String output) {
    }

    private static Run run(String mainClass, List<String> flags) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(flags);
        command.addAll(List.of("-cp", System.getProperty("java.class.path") + java.io.File.pathSeparator + classes, mainClass));
        Path log = Files.createTempFile(work, mainClass, ".log");
        Process p = new ProcessBuilder(command).directory(work.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        if (!p.waitFor(3, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            return new Run(-1, "did not finish in 3 minutes\n" + Files.readString(log));
        }
        return new Run(p.exitValue(), Files.readString(log));
    }
}
