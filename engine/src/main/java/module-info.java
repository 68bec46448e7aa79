/** Tensors with off-heap storage, their memory accounting, the CPU and CUDA backends and safetensors I/O. */
module dev.qlora4j.engine {
    requires transitive dev.qlora4j.cuda;
    requires transitive dev.qlora4j.json;
    requires jdk.incubator.vector;
    exports dev.qlora4j.engine;
    exports dev.qlora4j.engine.cpu;
    exports dev.qlora4j.engine.cuda;
    exports dev.qlora4j.engine.safetensors;
}
