package dev.qlora4j.autograd.llama;

/** How the frozen linear weights of a model are stored. */
public enum BaseFormat {
    /** NF4 with double quantization, block 64 (QLoRA). */
    NF4,
    /** LLM.int8 row-wise. */
    INT8,
    BF16,
    F32
}
