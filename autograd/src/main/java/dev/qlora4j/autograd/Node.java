package dev.qlora4j.autograd;

import dev.qlora4j.engine.Tensor;

/**
 * How an op pushes a gradient back to its inputs. Each op class builds its node next to its
 * forward, so forward and backward read side by side.
 */
abstract class Node {
    final Var[] inputs;

    Node(Var... inputs) {
        this.inputs = inputs;
    }

    /** The op's name, for messages. */
    abstract String name();

    /**
     * The gradients of the loss with respect to each input, given the gradient with respect to the
     * output; entries for inputs that do not require a gradient may be null (and need not be computed).
     * Returned tensors are new; the tape takes ownership.
     */
    abstract Tensor[] backward(Tensor gradOutput);

    /** Whether input i wants a gradient. */
    boolean needs(int i) {
        return inputs[i].requiresGrad();
    }
}
