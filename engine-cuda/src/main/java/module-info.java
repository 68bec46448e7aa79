/**
 * The CUDA backend: GEMMs through cuBLAS, the other kernels from PTX, device memory in a caching
 * allocator. Found by the engine as a {@code BackendProvider}; needed only to compute on an NVIDIA
 * GPU. Its exported package is the CUDA half of the kernel service-provider interface: a module with
 * kernels of its own (the quantized formats') loads and launches them through {@link
 * dev.qlora4j.engine.cuda.CudaContext}.
 */
module dev.qlora4j.engine.cuda {
    requires transitive dev.qlora4j.engine;
    requires transitive dev.qlora4j.cuda;
    exports dev.qlora4j.engine.cuda;

    provides dev.qlora4j.engine.spi.BackendProvider with dev.qlora4j.engine.cuda.CudaBackendProvider;
}
