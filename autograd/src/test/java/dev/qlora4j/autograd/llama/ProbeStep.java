package dev.qlora4j.autograd.llama;

import dev.qlora4j.autograd.Tape;
import dev.qlora4j.autograd.Var;
import dev.qlora4j.engine.Allocator;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Scope;
import dev.qlora4j.engine.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One loss and backward pass of a model on a seeded random batch, what tests compare between two
 * ways of running the same step: the loss, every trained parameter's gradient (then cleared), and
 * the CPU memory held at the end of the forward pass.
 */
record ProbeStep(float loss, List<float[]> grads, long heldAfterForward) {
    /** Batch × seq random ids and targets from {@code seed}; every seventh target is ignored (-100) when {@code ignoreSome}. */
    static ProbeStep run(LlamaModel m, int batch, int seq, long seed, boolean ignoreSome) {
        SplittableRandom r = new SplittableRandom(seed);
        int vocab = m.config().vocabSize();
        float[] ids = new float[batch * seq];
        float[] targets = new float[ids.length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = r.nextInt(vocab);
            targets[i] = ignoreSome && i % 7 == 0 ? -100 : r.nextInt(vocab);
        }
        try (Scope s = Scope.open()) {
            long before = Allocator.cpu().stats().live();
            Var loss = m.loss(Tensor.of(DType.I32, ids, batch, seq), Tensor.of(DType.I32, targets, ids.length), -100);
            long held = Allocator.cpu().stats().live() - before;
            float value = loss.value().getFlat(0);
            Tape.backward(loss);
            List<float[]> grads = new ArrayList<>();
            for (Var p : m.trainableParameters()) {
                grads.add(p.grad().toFloatArray());
                p.zeroGrad();
            }
            return new ProbeStep(value, grads, held);
        }
    }
}
