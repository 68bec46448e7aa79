/** Foreign-function bindings to the CUDA runtime and cuBLAS, in the shape jextract generates. */
module dev.qlora4j.cuda {
    exports dev.qlora4j.cuda;
}
