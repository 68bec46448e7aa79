package dev.qlora4j.cuda;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * cublas_api_h against an installed cuBLAS where there is one ($CUDA_HOME/include or
 * /usr/local/cuda/include, and the library), and Cublas's status naming everywhere.
 */
class CublasBindingsTest {
    private static final JextractShape BINDINGS = new JextractShape(cublas_api_h.class);

    private static CHeader cublasHeader() {
        Optional<Path> dir = CHeader.find("cublas_api.h");
        assumeTrue(dir.isPresent(), "no cublas_api.h in $CUDA_HOME/include or /usr/local/cuda/include: cuBLAS prototypes not checked");
        return CHeader.read(dir.get().resolve("cublas_api.h"));
    }

    private static void assertNone(List<String> problems) {
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    @Test
    void everyFunctionTheBackendNeedsIsBound() {
        assertEquals(Set.of("cublasCreate_v2", "cublasDestroy_v2", "cublasSetStream_v2", "cublasSetMathMode",
                "cublasGetVersion_v2", "cublasGemmEx", "cublasGemmStridedBatchedEx", "cublasGetStatusName",
                "cublasGetStatusString"), BINDINGS.functions());
    }

    @Test
    void everyDescriptorMatchesTheHeadersPrototype() {
        CHeader h = cublasHeader();
        assumeTrue(CudaTestSupport.cublasLoads(), "cublas_api.h is here but libcublas is not: descriptors live with the handles");
        assertNone(BINDINGS.descriptorMismatches(h));
    }

    @Test
    void everyCublasConstantMatchesTheHeader() {
        CHeader h = cublasHeader();
        assertNone(BINDINGS.constantMismatches(h, BINDINGS.constants().stream()
                .filter(c -> c.startsWith("CUBLAS_")).collect(Collectors.toSet())));
    }

    @Test
    void theDataTypesMatchLibraryTypesH() {
        // library_types.h ships with the CUDA runtime headers, so this runs even without cuBLAS.
        Optional<Path> dir = CHeader.find("library_types.h");
        assumeTrue(dir.isPresent(), "no library_types.h in $CUDA_HOME/include or /usr/local/cuda/include");
        Set<String> dataTypes = BINDINGS.constants().stream().filter(c -> c.startsWith("CUDA_R_")).collect(Collectors.toSet());
        assertEquals(Set.of("CUDA_R_32F", "CUDA_R_16F", "CUDA_R_16BF"), dataTypes);
        assertNone(BINDINGS.constantMismatches(CHeader.read(dir.get().resolve("library_types.h")), dataTypes));
    }

    @Test
    void everySymbolResolvesInTheInstalledLibrary() {
        assumeTrue(CudaTestSupport.cublasLoads(), "libcublas not installed here: symbols not checked");
        assertNone(BINDINGS.unresolvedSymbols());
    }

    @Test
    void everyWrappersJavaSignatureMatchesItsHandle() {
        assumeTrue(CudaTestSupport.cublasLoads(), "libcublas not installed here: handles cannot be made");
        assertNone(BINDINGS.wrapperMismatches());
    }

    @Test
    void theFallbackTableNamesEveryDocumentedStatus() {
        Map<Integer, String> names = new TreeMap<>();
        for (int status : new int[] {0, 1, 3, 7, 8, 11, 13, 14, 15, 16}) {
            names.put(status, Cublas.fallback(status).name());
            assertTrue(!Cublas.fallback(status).description().isBlank(), "status " + status);
        }
        assertEquals(Map.of(0, "CUBLAS_STATUS_SUCCESS", 1, "CUBLAS_STATUS_NOT_INITIALIZED", 3, "CUBLAS_STATUS_ALLOC_FAILED",
                7, "CUBLAS_STATUS_INVALID_VALUE", 8, "CUBLAS_STATUS_ARCH_MISMATCH", 11, "CUBLAS_STATUS_MAPPING_ERROR",
                13, "CUBLAS_STATUS_EXECUTION_FAILED", 14, "CUBLAS_STATUS_INTERNAL_ERROR",
                15, "CUBLAS_STATUS_NOT_SUPPORTED", 16, "CUBLAS_STATUS_LICENSE_ERROR"), names);
    }

    @Test
    void theFallbackTableAgreesWithTheGetters() {
        // The table's names are the getters' names: a renamed or renumbered getter shows up here.
        for (String getter : BINDINGS.constants()) {
            if (getter.startsWith("CUBLAS_STATUS_")) {
                assertEquals(getter, Cublas.fallback((int) BINDINGS.call(getter)).name());
            }
        }
    }

    @Test
    void anUnknownStatusIsNamedNotThrown() {
        assertEquals("unknown cublasStatus_t", Cublas.fallback(42).name());
        assertTrue(Cublas.fallback(42).description().contains("42"));
    }

    @Test
    void checkPassesSuccessAndNamesAFailure() {
        Cublas.check(cublas_api_h.CUBLAS_STATUS_SUCCESS(), "cublasCreate_v2");
        CublasException e = assertThrows(CublasException.class,
                () -> Cublas.check(cublas_api_h.CUBLAS_STATUS_INVALID_VALUE(), "cublasGemmEx"));
        assertEquals("cublasGemmEx", e.function());
        assertEquals(7, e.status());
        // The same name whether cuBLAS names it or our table does.
        assertEquals("CUBLAS_STATUS_INVALID_VALUE", e.statusName());
        assertEquals("cublasGemmEx failed: CUBLAS_STATUS_INVALID_VALUE (7): " + e.statusString(), e.getMessage());
    }

    @Test
    void withoutCublasTheFallbackTableNamesStatuses() {
        assumeTrue(!CudaTestSupport.cublasLoads(), "cuBLAS loads here, so it names statuses itself");
        assertEquals("CUBLAS_STATUS_NOT_INITIALIZED", Cublas.statusName(1));
        assertEquals(Cublas.fallback(1).description(), Cublas.statusString(1));
    }
}
