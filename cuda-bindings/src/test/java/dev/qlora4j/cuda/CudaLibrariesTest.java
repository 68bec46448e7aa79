package dev.qlora4j.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The loader's search order and its report when nothing loads, checked without setting real properties. */
class CudaLibrariesTest {
    private static final UnaryOperator<String> UNSET = key -> null;

    private static UnaryOperator<String> settings(Map<String, String> values) {
        return values::get;
    }

    private static List<String> paths(List<CudaLibraries.Candidate> candidates) {
        return candidates.stream().map(CudaLibraries.Candidate::path).toList();
    }

    @Test
    void propertyThenEnvironmentThenCudaHomeThenStandardDirectoriesThenTheLoadersSearch() {
        List<CudaLibraries.Candidate> c = CudaLibraries.candidates("cudart", CudaLibraries.CUDART_SONAMES,
                settings(Map.of("qlora4j.cuda.cudart", "/prop/libcudart.so.13")),
                settings(Map.of("QLORA4J_CUDA_CUDART", "/env/libcudart.so.13", "CUDA_HOME", "/opt/cuda")));
        assertEquals(List.of(
                "/prop/libcudart.so.13",
                "/env/libcudart.so.13",
                "/opt/cuda/lib64/libcudart.so.13", "/opt/cuda/lib64/libcudart.so.12",
                "/usr/local/cuda/lib64/libcudart.so.13", "/usr/local/cuda/lib64/libcudart.so.12",
                "/usr/local/cuda/targets/x86_64-linux/lib/libcudart.so.13",
                "/usr/local/cuda/targets/x86_64-linux/lib/libcudart.so.12",
                "libcudart.so.13", "libcudart.so.12"), paths(c));
        assertEquals(List.of("-Dqlora4j.cuda.cudart", "QLORA4J_CUDA_CUDART", "CUDA_HOME"),
                c.subList(0, 3).stream().map(CudaLibraries.Candidate::origin).toList());
    }

    @Test
    void unsetOrBlankSettingsAreSkipped() {
        List<String> p = paths(CudaLibraries.candidates("cublasLt", CudaLibraries.CUBLAS_LT_SONAMES,
                settings(Map.of("qlora4j.cuda.cublasLt", " ")), settings(Map.of("CUDA_HOME", ""))));
        assertEquals(List.of(
                "/usr/local/cuda/lib64/libcublasLt.so.13", "/usr/local/cuda/lib64/libcublasLt.so.12",
                "/usr/local/cuda/targets/x86_64-linux/lib/libcublasLt.so.13",
                "/usr/local/cuda/targets/x86_64-linux/lib/libcublasLt.so.12",
                "libcublasLt.so.13", "libcublasLt.so.12"), p);
    }

    @Test
    void theEnvironmentVariableIsTheUpperCasedName() {
        assertEquals("QLORA4J_CUDA_CUBLASLT", CudaLibraries.envName("cublasLt"));
        assertEquals("qlora4j.cuda.cublasLt", CudaLibraries.propertyName("cublasLt"));
    }

    @Test
    void theMajor13SonamesComeBefore12() {
        assertEquals(List.of("libcudart.so.13", "libcudart.so.12"), CudaLibraries.CUDART_SONAMES);
        assertEquals(List.of("libcublas.so.13", "libcublas.so.12"), CudaLibraries.CUBLAS_SONAMES);
        assertEquals(List.of("libcublasLt.so.13", "libcublasLt.so.12"), CudaLibraries.CUBLAS_LT_SONAMES);
    }

    @Test
    void whenNothingLoadsEveryPathTriedIsListedWithWhyAndHowToSetIt() {
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class,
                () -> CudaLibraries.open("nosuchlib", List.of("libqlora4j-none.so.13", "libqlora4j-none.so.12"),
                        settings(Map.of("qlora4j.cuda.nosuchlib", "/nowhere/libqlora4j-none.so.13")),
                        settings(Map.of("CUDA_HOME", "/nowhere/cuda"))));
        String m = e.getMessage();
        for (String path : List.of("/nowhere/libqlora4j-none.so.13 (-Dqlora4j.cuda.nosuchlib: no such file)",
                "/nowhere/cuda/lib64/libqlora4j-none.so.12 (CUDA_HOME: no such file)",
                "/usr/local/cuda/lib64/libqlora4j-none.so.13",
                "/usr/local/cuda/targets/x86_64-linux/lib/libqlora4j-none.so.12",
                "libqlora4j-none.so.13 (dynamic loader search: ",
                "libqlora4j-none.so.12 (dynamic loader search: ")) {
            assertTrue(m.contains(path), () -> "missing " + path + " in: " + m);
        }
        assertTrue(m.contains("-Dqlora4j.cuda.nosuchlib=/path/to/libqlora4j-none.so.13"), m);
        assertTrue(m.contains("QLORA4J_CUDA_NOSUCHLIB"), m);
        assertTrue(m.contains("CUDA_HOME"), m);
    }

    @Test
    void aLibraryThatLoadsButIsUnusableIsPassedOverForTheNextOne() {
        // Two ordinary system libraries stand in for two runtimes: the first (libm) is "unusable",
        // the second (libz) is chosen although it comes later in the search order.
        Path first = Path.of("/lib/x86_64-linux-gnu/libm.so.6");
        Path second = Path.of("/lib/x86_64-linux-gnu/libz.so.1");
        assumeTrue(Files.exists(first) && Files.exists(second), "libm and libz are not where Debian puts them");
        CudaLibraries.Loaded chosen = CudaLibraries.open("standin", List.of("libqlora4j-none.so.1"),
                settings(Map.of("qlora4j.cuda.standin", first.toString())),
                settings(Map.of("QLORA4J_CUDA_STANDIN", second.toString())),
                lookup -> lookup.find("cos").isPresent() ? "exports cos" : null);
        assertEquals(second.toString(), chosen.path());
        // When nothing passes, the first library that loaded is kept, for its own error messages.
        CudaLibraries.Loaded fallback = CudaLibraries.open("standin", List.of("libqlora4j-none.so.1"),
                settings(Map.of("qlora4j.cuda.standin", first.toString())),
                settings(Map.of("QLORA4J_CUDA_STANDIN", second.toString())), lookup -> "never usable");
        assertEquals(first.toString(), fallback.path());
    }

    @Test
    void theMajor12SonameLoadsWhen13IsAbsent(@TempDir Path home) throws IOException {
        Path real = Path.of("/usr/local/cuda/lib64/libcudart.so.13");
        assumeTrue(Files.exists(real), "no libcudart.so.13 installed here to stand in for 12");
        Files.createDirectories(home.resolve("lib64"));
        Path stand = Files.createSymbolicLink(home.resolve("lib64/libcudart.so.12"), real);
        try {
            CudaLibraries.Loaded loaded = CudaLibraries.open("cudart", CudaLibraries.CUDART_SONAMES, UNSET,
                    settings(Map.of("CUDA_HOME", home.toString())));
            assertEquals(stand.toString(), loaded.path());
            assertTrue(loaded.lookup().find("cudaRuntimeGetVersion").isPresent());
        } finally {
            // Ours to remove: JUnit warns when it has to delete a link pointing outside the temp dir.
            Files.delete(stand);
        }
    }

    @Test
    void cublasLtIsLoadedBeforeCublas() {
        assumeTrue(!CudaTestSupport.cublasLoads(), "cuBLAS loads here: the failure message cannot show the order");
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class, CudaLibraries::cublas);
        // Lt is tried first, so with neither installed the failure names Lt.
        assertTrue(e.getMessage().startsWith("libcublasLt.so.13 or libcublasLt.so.12 could not be loaded"), e.getMessage());
    }

    @Test
    void aFailedLoadFailsAgainTheSameWay() {
        assumeTrue(!CudaTestSupport.cublasLoads(), "cuBLAS loads here");
        String first = assertThrows(CudaUnavailableException.class, CudaLibraries::cublas).getMessage();
        assertEquals(first, assertThrows(CudaUnavailableException.class, CudaLibraries::cublas).getMessage());
    }
}
