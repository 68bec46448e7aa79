/** The f64 oracles the tests check kernels against; depends on nothing, used only in test scope. */
module dev.qlora4j.testkit {
    exports dev.qlora4j.testkit;
}
