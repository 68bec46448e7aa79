/** 4-bit NF4/FP4 and 8-bit weight formats, byte-compatible with bitsandbytes. */
module dev.qlora4j.nf4 {
    requires transitive dev.qlora4j.engine;
    // The CUDA kernels of the formats: read only when a weight is on a GPU, where the CUDA backend is present.
    requires static dev.qlora4j.engine.cuda;
    exports dev.qlora4j.nf4;
}
