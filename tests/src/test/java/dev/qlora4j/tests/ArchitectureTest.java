package dev.qlora4j.tests;

import dev.qlora4j.autograd.Var;
import dev.qlora4j.cli.Main;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.cuda.CudaBackend;
import dev.qlora4j.json.Json;
import dev.qlora4j.nf4.FourBitWeight;
import dev.qlora4j.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.constantpool.PoolEntry;
import java.lang.classfile.constantpool.Utf8Entry;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Keeps the one seam between the engine and its backends, by reading the compiled classes and module
 * descriptors of every module: outside the engine nothing names the CPU or CUDA backend's internals
 * (dev.qlora4j.engine.cpu, dev.qlora4j.engine.cuda) or the engine's backend lookup; the engine core
 * names neither backend; the tokenizer does not depend on the engine; the engine does not depend on
 * the CUDA bindings. A class "names" another when the other's internal name is in its constant pool:
 * any import that is used, any call, field, signature or descriptor.
 */
class ArchitectureTest {
    private static final String CPU = "dev/qlora4j/engine/cpu/";
    private static final String CUDA = "dev/qlora4j/engine/cuda/";
    private static final String BACKENDS = "dev/qlora4j/engine/Backends";

    /**
     * The one place outside the engine allowed to use the CUDA backend's exported package: nf4's CUDA
     * implementation of its quantized kernels (item 3 of the seam).
     */
    private static final Set<String> CUDA_KERNEL_IMPLEMENTATIONS = Set.of(
            "dev/qlora4j/nf4/CudaQuantizedKernels", "dev/qlora4j/nf4/CudaDequantize", "dev/qlora4j/nf4/CudaQuantizedMatmul");

    @Test
    void nothingAboveTheEngineNamesABackend() throws IOException {
        Map<String, List<String>> offences = new TreeMap<>();
        List<Map<String, Set<String>>> modules = new ArrayList<>();
        for (Class<?> anchor : List.of(Json.class, Tokenizer.class, FourBitWeight.class, Var.class, Main.class)) {
            modules.add(classesOf(location(anchor), anchor.getPackageName().replace('.', '/') + "/"));
        }
        // The benchmarks' jar is shaded (it holds copies of every module), so their own classes are read
        // from the build's output; the root pom builds them before this module.
        Optional<Path> benchmarks = SourceTree.root().map(r -> r.resolve("benchmarks/target/classes")).filter(Files::isDirectory);
        if (benchmarks.isPresent()) {
            modules.add(classesOf(benchmarks.get(), "dev/qlora4j/benchmarks/"));
        }
        for (Map<String, Set<String>> module : modules) {
            for (Map.Entry<String, Set<String>> c : module.entrySet()) {
                for (String name : c.getValue()) {
                    boolean cpu = name.contains(CPU);
                    boolean cuda = name.contains(CUDA) && !CUDA_KERNEL_IMPLEMENTATIONS.contains(outerName(c.getKey()));
                    if (cpu || cuda || name.contains(BACKENDS)) {
                        offences.computeIfAbsent(c.getKey(), k -> new ArrayList<>()).add(name);
                    }
                }
            }
        }
        assertEquals(Map.of(), offences, "classes outside the engine that name a backend's internals or Backends");
    }

    @Test
    void theEngineCoreNamesNeitherBackend() throws IOException {
        Map<String, List<String>> offences = new TreeMap<>();
        for (Map.Entry<String, Set<String>> c : classesOf(location(Tensor.class), "dev/qlora4j/engine/").entrySet()) {
            String cls = c.getKey();
            boolean core = !cls.startsWith(CPU) && !cls.startsWith("dev/qlora4j/engine/spi/");
            for (String name : c.getValue()) {
                // The CPU backend is found through its provider like any other; the SPI's CPU bridge
                // (CpuKernels) and the CPU package itself may name it. Nothing in this module names CUDA.
                if (name.contains(CUDA) || (core && name.contains(CPU))) {
                    offences.computeIfAbsent(cls, k -> new ArrayList<>()).add(name);
                }
            }
        }
        assertEquals(Map.of(), offences, "engine core classes that name a backend");
    }

    @Test
    void theCudaBackendUsesOnlyTheEnginesPublicPackages() throws IOException {
        for (Map.Entry<String, Set<String>> c : classesOf(location(CudaBackend.class), CUDA).entrySet()) {
            for (String name : c.getValue()) {
                assertFalse(name.contains(CPU) || name.contains(BACKENDS), c.getKey() + " names " + name);
            }
        }
    }

    @Test
    void moduleGraphKeepsTheTokenizerAndTheCpuEngineFreeOfCuda() {
        ModuleDescriptor tokenizer = descriptor(Tokenizer.class);
        assertEquals(Set.of("java.base", "dev.qlora4j.json"), requires(tokenizer, false), "tokenizer's requires");
        ModuleDescriptor engine = descriptor(Tensor.class);
        assertFalse(requires(engine, false).contains("dev.qlora4j.cuda"), "the engine must not require the CUDA bindings");
        assertTrue(engine.provides().stream().anyMatch(p -> p.service().equals("dev.qlora4j.engine.spi.BackendProvider")),
                "the engine provides its CPU backend as a service");
        assertTrue(engine.uses().contains("dev.qlora4j.engine.spi.BackendProvider"), "the engine finds backends as services");
        assertFalse(engine.exports().stream().anyMatch(e -> e.source().equals("dev.qlora4j.engine.cpu")),
                "the CPU backend's package is internal");
        ModuleDescriptor nf4 = descriptor(FourBitWeight.class);
        assertTrue(nf4.requires().stream().anyMatch(r -> r.name().equals("dev.qlora4j.engine.cuda")
                && r.modifiers().contains(ModuleDescriptor.Requires.Modifier.STATIC)),
                "nf4 reads the CUDA backend only when it is present (requires static)");
    }

    private static Set<String> requires(ModuleDescriptor d, boolean includeStatic) {
        return d.requires().stream()
                .filter(r -> includeStatic || !r.modifiers().contains(ModuleDescriptor.Requires.Modifier.STATIC))
                .map(ModuleDescriptor.Requires::name).collect(Collectors.toSet());
    }

    private static ModuleDescriptor descriptor(Class<?> anchor) {
        Path where = location(anchor);
        return ModuleFinder.of(where).findAll().stream().map(ModuleReference::descriptor).findFirst()
                .orElseThrow(() -> new AssertionError("no module descriptor at " + where));
    }

    private static String outerName(String internalName) {
        int dollar = internalName.indexOf('$');
        return dollar < 0 ? internalName : internalName.substring(0, dollar);
    }

    /** For each class in the directory or jar {@code where} whose name starts with {@code prefix}: the strings of its constant pool. */
    private static Map<String, Set<String>> classesOf(Path where, String prefix) throws IOException {
        Map<String, Set<String>> classes = new TreeMap<>();
        if (Files.isDirectory(where)) {
            try (Stream<Path> files = Files.walk(where)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
                    String name = where.relativize(f).toString().replace('\\', '/').replace(".class", "");
                    if (name.startsWith(prefix)) {
                        classes.put(name, poolStrings(Files.readAllBytes(f)));
                    }
                }
            }
        } else {
            try (JarFile jar = new JarFile(where.toFile())) {
                for (JarEntry e : jar.stream().toList()) {
                    if (e.getName().endsWith(".class") && e.getName().startsWith(prefix)) {
                        try (InputStream in = jar.getInputStream(e)) {
                            classes.put(e.getName().replace(".class", ""), poolStrings(in.readAllBytes()));
                        }
                    }
                }
            }
        }
        assertFalse(classes.isEmpty(), "no classes under " + prefix + " at " + where);
        return classes;
    }

    private static Set<String> poolStrings(byte[] classFile) {
        Set<String> strings = new java.util.HashSet<>();
        for (PoolEntry e : ClassFile.of().parse(classFile).constantPool()) {
            if (e instanceof Utf8Entry u) {
                strings.add(u.stringValue());
            }
        }
        return strings;
    }

    private static Path location(Class<?> anchor) {
        try {
            return Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }
}
