/** The autograd tape, the differentiable ops and LoRA, AdamW, and the Llama decoder with its Hugging Face and PEFT files. */
module dev.qlora4j.autograd {
    requires transitive dev.qlora4j.nf4;
    exports dev.qlora4j.autograd;
    exports dev.qlora4j.autograd.llama;
}
