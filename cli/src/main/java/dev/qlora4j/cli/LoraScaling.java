package dev.qlora4j.cli;

/**
 * How LoRA turns alpha and the rank r into the factor s its update {@code s·B·A} is multiplied by:
 * standard LoRA divides by r, rsLoRA (Kalajdzievski 2023) by √r, which keeps the update's scale — and
 * so a good alpha — the same as the rank grows.
 */
enum LoraScaling {
    STANDARD("standard", "alpha/r"),
    RS_LORA("rsLoRA", "alpha/√r");

    /** The name printed in tables and plots. */
    final String label;
    /** The formula, as printed. */
    final String formula;

    LoraScaling(String label, String formula) {
        this.label = label;
        this.formula = formula;
    }

    /** The effective multiplier s; the same arithmetic as {@code LoraLinear.scaling()}. */
    double factor(double alpha, int rank) {
        return this == STANDARD ? alpha / rank : alpha / Math.sqrt(rank);
    }

    boolean rsLora() {
        return this == RS_LORA;
    }
}
