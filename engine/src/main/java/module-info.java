/**
 * Tensors with off-heap storage and their memory accounting, the checked tensor operations
 * ({@code Ops}, {@code TrainingOps}), the CPU backend, safetensors I/O, and the service-provider
 * interface ({@code dev.qlora4j.engine.spi}) through which backends and kernels outside this module
 * plug in. The CUDA backend is the module {@code dev.qlora4j.engine.cuda}.
 */
module dev.qlora4j.engine {
    requires transitive dev.qlora4j.json;
    requires transitive jdk.incubator.vector;
    // The host's free physical memory where /proc/meminfo is not there.
    requires jdk.management;
    exports dev.qlora4j.engine;
    exports dev.qlora4j.engine.spi;
    exports dev.qlora4j.engine.safetensors;

    uses dev.qlora4j.engine.spi.BackendProvider;
    provides dev.qlora4j.engine.spi.BackendProvider with dev.qlora4j.engine.cpu.CpuBackendProvider;
}
