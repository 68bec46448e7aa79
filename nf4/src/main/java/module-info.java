/** 4-bit NF4/FP4 and 8-bit weight formats, byte-compatible with bitsandbytes. Filled by the quantization work. */
module dev.qlora4j.nf4 {
    requires transitive dev.qlora4j.engine;
}
