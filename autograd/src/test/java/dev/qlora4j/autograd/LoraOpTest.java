package dev.qlora4j.autograd;

import dev.qlora4j.engine.Allocator;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Scope;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.nf4.FourBitWeight;
import dev.qlora4j.nf4.QuantType;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The LoRA op: gradients against finite differences, and its memory bound with a 4-bit base. */
class LoraOpTest {

    @Test
    void gradientsOfXaAndBWithDenseAndNf4Bases() {
        SplittableRandom r = new SplittableRandom(5);
        try (Tensor w = TestTensors.gaussian(r, 0.3, 6, 64); FourBitWeight q = FourBitWeight.quantize(w, QuantType.NF4, 64, true);
             Tensor x = TestTensors.gaussian(r, 1, 2, 3, 64); Tensor a = TestTensors.gaussian(r, 0.2, 4, 64); Tensor b = TestTensors.gaussian(r, 0.2, 6, 4)) {
            for (FrozenWeight base : List.of(FrozenWeight.of(w), FrozenWeight.of(q))) {
                GradCheck.Report rep = GradCheck.check(v -> F.lora(v.get(0), base, v.get(1), v.get(2), 2.0f / 4),
                        List.of(x, a, b), 1e-2);
                assertTrue(rep.passed(5e-3), base + ": " + rep.maxError() + " at " + rep.where());
            }
        }
    }

    @Test
    void forwardIsTheBaseProductPlusTheScaledLowRankProduct() {
        SplittableRandom r = new SplittableRandom(6);
        try (Scope s = Scope.open()) {
            Tensor w = TestTensors.gaussian(r, 0.3, 5, 8);
            Tensor x = TestTensors.gaussian(r, 1, 3, 8);
            Tensor a = TestTensors.gaussian(r, 0.2, 2, 8);
            Tensor b = TestTensors.gaussian(r, 0.2, 5, 2);
            float scaling = 16f / 2;
            Var y = F.lora(Var.leaf(x, false), FrozenWeight.of(w), Var.leaf(a, true), Var.leaf(b, true), scaling);
            for (int i = 0; i < 3; i++) {
                for (int o = 0; o < 5; o++) {
                    double base = 0;
                    double low = 0;
                    for (int k = 0; k < 8; k++) {
                        base += (double) x.getFloat(i, k) * w.getFloat(o, k);
                    }
                    for (int j = 0; j < 2; j++) {
                        double hj = 0;
                        for (int k = 0; k < 8; k++) {
                            hj += (double) x.getFloat(i, k) * a.getFloat(j, k);
                        }
                        low += hj * b.getFloat(o, j);
                    }
                    assertEquals(base + scaling * low, y.value().getFloat(i, o), 1e-4 * (1 + Math.abs(base + scaling * low)));
                }
            }
        }
    }

    @Test
    void withAnNf4BaseThePeakAboveInputsAndOutputsStaysBelowWInBf16() {
        // in = out = 4096, r = 16, 512 tokens: W in BF16 would be 32 MiB. Backward never forms dW.
        SplittableRandom r = new SplittableRandom(7);
        int d = 4096;
        int rank = 16;
        int tokens = 512;
        Allocator alloc = Allocator.cpu();
        try (Tensor wf = TestTensors.gaussian(r, 0.02, d, d); FourBitWeight q = FourBitWeight.quantize(wf, QuantType.NF4, 64, true);
             Tensor x = TestTensors.gaussian(r, 1, tokens, d); Tensor a = TestTensors.gaussian(r, 0.01, rank, d); Tensor b = TestTensors.gaussian(r, 0.01, d, rank);
             Tensor dy = TestTensors.gaussian(r, 1, tokens, d)) {
            wf.close();
            long before = alloc.stats().live();
            alloc.resetPeak();
            long outputs;
            try (Scope step = Scope.open()) {
                Var xv = Var.leaf(x, true);
                Var av = Var.leaf(a, true);
                Var bv = Var.leaf(b, true);
                Var y = F.lora(xv, FrozenWeight.of(q), av, bv, 2f);
                // loss = Σ y·dy, so dL/dy = dy: the backward of a layer given its output gradient.
                Var loss = F.sum(F.mul(y, Var.leaf(dy, false)));
                Tape.backward(loss);
                assertArrayEquals(new int[]{rank, d}, av.grad().shape().dims());
                assertArrayEquals(new int[]{d, rank}, bv.grad().shape().dims());
                assertArrayEquals(new int[]{tokens, d}, xv.grad().shape().dims());
                // Outputs: y, y·dy (the loss input), and the gradients of x, A and B.
                outputs = 3L * tokens * d * 4 + 2L * rank * d * 4;
                long peakAbove = alloc.stats().peak() - before - outputs;
                assertTrue(peakAbove < 32L << 20, "peak above inputs and outputs: " + peakAbove + " bytes");
                List.of(xv, av, bv).forEach(Var::zeroGrad);
            }
        }
    }
}
