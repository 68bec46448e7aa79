package dev.qlora4j.engine;

/**
 * The scalars of one AdamW update, the same for every element:
 * <pre>
 *   m = β1·m + (1-β1)·g,   v = β2·v + (1-β2)·g²
 *   p = p - lr·weightDecay·p - lr·(m / c1) / (sqrt(v / c2) + eps)
 * </pre>
 * with the bias corrections {@code c1 = 1 - β1^t}, {@code c2 = 1 - β2^t} at step t.
 */
public record AdamWStep(float lr, float beta1, float beta2, float eps, float weightDecay, float c1, float c2) {
}
