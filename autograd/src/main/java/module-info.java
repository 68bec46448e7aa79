/** The autograd tape, the LoRA op, nn layers and optimizers. Filled by the autograd work. */
module dev.qlora4j.autograd {
    requires transitive dev.qlora4j.nf4;
}
