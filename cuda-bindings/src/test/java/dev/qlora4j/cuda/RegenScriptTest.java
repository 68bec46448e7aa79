package dev.qlora4j.cuda;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * regen.sh asks jextract for exactly what the hand-written classes bind, so a regeneration compares
 * like with like. A check of the source tree: skipped where the tests run without it (the GPU check).
 */
class RegenScriptTest {
    private static final Path SCRIPT = Path.of("regen.sh");

    @BeforeEach
    void needsTheSourceTree() {
        assumeTrue(Files.exists(SCRIPT), "no cuda-bindings/regen.sh here: the tests run outside the source tree");
    }

    private static Set<String> array(String script, String name) {
        Matcher m = Pattern.compile("(?m)^" + name + "=\\(([^)]*)\\)").matcher(script);
        assertTrue(m.find(), name + " not in regen.sh");
        String body = m.group(1).replaceAll("#[^\n]*", " ");
        return new TreeSet<>(Arrays.asList(body.strip().split("\\s+")));
    }

    @Test
    void theScriptListsEveryBoundFunctionAndConstant() throws IOException {
        String script = Files.readString(SCRIPT);
        JextractShape runtime = new JextractShape(cuda_runtime_h.class);
        JextractShape cublas = new JextractShape(cublas_api_h.class);
        assertEquals(runtime.functions(), array(script, "CUDART_FUNCTIONS"));
        assertEquals(runtime.constants(), array(script, "CUDART_CONSTANTS"));
        assertEquals(cublas.functions(), array(script, "CUBLAS_FUNCTIONS"));
        assertEquals(cublas.constants(), array(script, "CUBLAS_CONSTANTS"));
    }

    @Test
    void theScriptIsExecutable() {
        assertTrue(Files.isExecutable(SCRIPT), SCRIPT.toAbsolutePath().toString());
    }
}
