/** The autograd tape, the differentiable ops and (to come) LoRA, layers and optimizers. */
module dev.qlora4j.autograd {
    requires transitive dev.qlora4j.nf4;
    exports dev.qlora4j.autograd;
    exports dev.qlora4j.autograd.llama;
}
