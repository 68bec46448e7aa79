package dev.qlora4j.tests;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An application module on the module path, as README describes it: it {@code requires
 * dev.qlora4j.autograd}, runs with {@code --enable-native-access=dev.qlora4j.engine,dev.qlora4j.nf4,dev.qlora4j.cuda}
 * and no {@code --add-modules}, and computes; without the CUDA artifacts it still runs on the CPU and
 * says which artifact would add CUDA. Needs the project's jars (with their module descriptors), so it
 * runs where Maven has packaged them and skips where the class path holds class folders instead.
 */
class ModulePathTest {
    private static final String APP = """
            package my.app;

            import dev.qlora4j.engine.*;

            public class App {
                public static void main(String[] args) {
                    try (Tensor x = Tensor.of(new float[]{1, 2, 3, 4}, 2, 2); Tensor y = Ops.scale(Ops.matmul(x, x), 0.5f)) {
                        System.out.println(java.util.Arrays.toString(y.toFloatArray()));
                    }
                    System.out.println("cuda: " + Device.availability(Device.Kind.CUDA).detail());
                }
            }
            """;

    @TempDir
    Path work;

    @Test
    void anApplicationModuleRunsWithTheDocumentedFlagsWithOrWithoutCuda() throws Exception {
        List<Path> jars = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .map(Path::of).filter(p -> p.getFileName().toString().matches("qlora4j-(json|engine|engine-cuda|cuda-bindings|nf4|autograd)-[^-]+(-SNAPSHOT)?\\.jar"))
                .toList();
        Assumptions.assumeTrue(jars.size() == 6, "the module jars are on the class path only after packaging: " + jars);
        Path src = Files.createDirectories(work.resolve("src/my.app/my/app"));
        Files.writeString(work.resolve("src/my.app/module-info.java"), "module my.app { requires dev.qlora4j.autograd; }\n");
        Files.writeString(src.resolve("App.java"), APP);
        Path out = work.resolve("out");
        ByteArrayOutputStream errors = new ByteArrayOutputStream();
        int status = ToolProvider.getSystemJavaCompiler().run(null, errors, errors, "-p", modulePath(jars), "-d", out.toString(),
                "--module-source-path", work.resolve("src").toString(), "-m", "my.app");
        assertEquals(0, status, errors.toString(StandardCharsets.UTF_8));

        String withCuda = run(modulePath(jars) + File.pathSeparator + out, "dev.qlora4j.engine,dev.qlora4j.nf4,dev.qlora4j.cuda");
        assertTrue(withCuda.contains("[3.5, 5.0, 7.5, 11.0]"), withCuda);
        assertFalse(withCuda.contains("no CUDA backend is installed"), "engine-cuda is bound as a service:\n" + withCuda);
        assertFalse(withCuda.contains("restricted method"), "native access is granted by the documented flag:\n" + withCuda);

        List<Path> cpuOnly = jars.stream().filter(p -> !p.getFileName().toString().contains("cuda")).toList();
        String withoutCuda = run(modulePath(cpuOnly) + File.pathSeparator + out, "dev.qlora4j.engine,dev.qlora4j.nf4");
        assertTrue(withoutCuda.contains("[3.5, 5.0, 7.5, 11.0]"), withoutCuda);
        assertTrue(withoutCuda.contains("cuda: no CUDA backend is installed: add the artifact dev.qlora4j:qlora4j-engine-cuda"),
                withoutCuda);
    }

    private static String modulePath(List<Path> jars) {
        return String.join(File.pathSeparator, jars.stream().map(Path::toString).toList());
    }

    private String run(String modulePath, String nativeAccess) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=" + nativeAccess, "-p", modulePath, "-m", "my.app/my.app.App"));
        Path log = Files.createTempFile(work, "run", ".log");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(2, TimeUnit.MINUTES)) {
            p.destroyForcibly();
        }
        String output = Files.readString(log);
        assertEquals(0, p.exitValue(), output);
        return output;
    }
}
