/** 4-bit NF4/FP4 and 8-bit weight formats, byte-compatible with bitsandbytes. */
module dev.qlora4j.nf4 {
    requires transitive dev.qlora4j.engine;
    requires jdk.incubator.vector;
    exports dev.qlora4j.nf4;
}
