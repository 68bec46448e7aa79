package dev.qlora4j.cli;

/** The qlora4j command. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.out.println("qlora4j");
    }
}
