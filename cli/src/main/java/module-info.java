/** The qlora4j command line. */
module dev.qlora4j.cli {
    requires dev.qlora4j.autograd;
    requires dev.qlora4j.nf4;
    requires dev.qlora4j.tokenizer;
    requires jdk.incubator.vector;
}
