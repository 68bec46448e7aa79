/**
 * What the tests check against and with: the f64 oracles for kernels, and the seeded fuzz campaign
 * for readers of files. Depends only on the JDK; used only in test scope.
 */
module dev.qlora4j.testkit {
    requires jdk.management;
    exports dev.qlora4j.testkit;
}
