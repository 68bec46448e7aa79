package dev.qlora4j.autograd;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Scope;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.nf4.FourBitWeight;
import dev.qlora4j.nf4.QuantType;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PEFT's initialisation and scalings, the adapter switch, merging, and a tiny fit with AdamW. */
class LoraLinearTest {

    @Test
    void initialisationAndScalingAreThoseOfPeft() {
        try (Tensor w = Tensor.zeros(DType.F32, 32, 400); LoraLinear l = LoraLinear.create(FrozenWeight.of(w), 8, 16, false,
                LoraLinear.Init.KAIMING_UNIFORM, 1); LoraLinear rs = LoraLinear.create(FrozenWeight.of(w), 16, 16, true,
                LoraLinear.Init.GAUSSIAN, 2)) {
            assertEquals(2.0f, l.scaling());
            assertEquals(4.0f, rs.scaling());
            float bound = (float) (1 / Math.sqrt(400));
            float max = 0;
            for (float v : l.loraA().value().toFloatArray()) {
                max = Math.max(max, Math.abs(v));
            }
            assertTrue(max <= bound && max > 0.9 * bound, "A ~ U(-1/√in, 1/√in): max |A| " + max + ", bound " + bound);
            for (float v : l.loraB().value().toFloatArray()) {
                assertEquals(0f, v);
            }
            double sq = 0;
            float[] ga = rs.loraA().value().toFloatArray();
            for (float v : ga) {
                sq += v * v;
            }
            assertEquals(1.0 / 16, Math.sqrt(sq / ga.length), 0.005, "gaussian A has std 1/r");
            assertThrows(IllegalArgumentException.class, () -> LoraLinear.create(FrozenWeight.of(w), 0, 16, false,
                    LoraLinear.Init.KAIMING_UNIFORM, 1));
        }
    }

    @Test
    void startsAsTheBaseSwitchesOffAndMergesBack() {
        SplittableRandom r = new SplittableRandom(3);
        try (Tensor w = TestTensors.gaussian(r, 0.2, 12, 16); Tensor x = TestTensors.gaussian(r, 1, 5, 16);
             LoraLinear l = LoraLinear.create(FrozenWeight.of(w), 4, 8, false, LoraLinear.Init.KAIMING_UNIFORM, 4);
             Scope s = Scope.open()) {
            Var xv = Var.leaf(x, false);
            Tensor base = FrozenWeight.of(w).forward(x);
            assertArrayEquals(base.toFloatArray(), l.forward(xv).value().toFloatArray(), "B = 0: the base's output");
            // Give B values, then compare the adapter against its merged weight.
            try (Tensor b = TestTensors.gaussian(r, 0.3, 12, 4)) {
                for (int i = 0; i < b.numel(); i++) {
                    l.loraB().value().setFlat(i, b.getFlat(i));
                }
            }
            float[] adapted = l.forward(xv).value().toFloatArray();
            Tensor merged = l.merged(DType.F32);
            float[] viaMerge = FrozenWeight.of(merged).forward(x).toFloatArray();
            for (int i = 0; i < adapted.length; i++) {
                assertEquals(adapted[i], viaMerge[i], 1e-4 * (1 + Math.abs(adapted[i])));
            }
            l.setEnabled(false);
            assertArrayEquals(base.toFloatArray(), l.forward(xv).value().toFloatArray(), "disabled: the base again");
            float[] back = l.unmerge(merged).toFloatArray();
            float[] orig = w.toFloatArray();
            for (int i = 0; i < orig.length; i++) {
                assertEquals(orig[i], back[i], 1e-5);
            }
        }
    }

    @Test
    void mergingIntoAFourBitBaseRequantizesInItsFormat() {
        SplittableRandom r = new SplittableRandom(13);
        try (Tensor w = TestTensors.gaussian(r, 0.1, 32, 128); FourBitWeight q = FourBitWeight.quantize(w, QuantType.NF4, 64, true);
             LoraLinear l = LoraLinear.create(FrozenWeight.of(q), 4, 8, false, LoraLinear.Init.KAIMING_UNIFORM, 5);
             Tensor b = TestTensors.gaussian(r, 0.1, 32, 4)) {
            for (int i = 0; i < b.numel(); i++) {
                l.loraB().value().setFlat(i, b.getFlat(i));
            }
            try (Tensor dense = l.merged(DType.F32); FourBitWeight m = l.mergedRequantized(); Tensor back = m.dequantize(DType.F32)) {
                assertEquals(QuantType.NF4, m.type());
                assertTrue(m.doubleQuant());
                float[] e = dense.toFloatArray();
                float[] g = back.toFloatArray();
                float[] absmax = m.absmax();
                for (int i = 0; i < e.length; i++) {
                    // NF4's widest gap between neighbouring codes is 0.3039 of the block's absmax.
                    assertTrue(Math.abs(e[i] - g[i]) <= 0.16 * absmax[i / 64] * 1.01, "element " + i);
                }
            }
        }
        try (Tensor w = TestTensors.gaussian(r, 0.1, 8, 8); LoraLinear dense = LoraLinear.create(FrozenWeight.of(w), 2, 4, false,
                LoraLinear.Init.KAIMING_UNIFORM, 1)) {
            assertThrows(IllegalStateException.class, dense::mergedRequantized);
        }
    }

    @Test
    void branchDropoutOnlyInTrainingWithGradientsThroughTheMask() {
        SplittableRandom r = new SplittableRandom(12);
        try (Tensor w = TestTensors.gaussian(r, 0.2, 6, 10); Tensor x = TestTensors.gaussian(r, 1, 4, 10); Tensor b = TestTensors.gaussian(r, 0.3, 6, 3);
             LoraLinear l = LoraLinear.create(FrozenWeight.of(w), 3, 6, false, LoraLinear.Init.KAIMING_UNIFORM, 4)) {
            for (int i = 0; i < b.numel(); i++) {
                l.loraB().value().setFlat(i, b.getFlat(i));
            }
            l.setDropout(0.5);
            float[] plain;
            try (Scope s = Scope.open()) {
                plain = l.forward(Var.leaf(x, false)).value().toFloatArray();
                assertArrayEquals(plain, l.forward(Var.leaf(x, false), 1).value().toFloatArray(), "not training: no dropout");
            }
            l.setTraining(true);
            try (Scope s = Scope.open()) {
                float[] dropped = l.forward(Var.leaf(x, false), 1).value().toFloatArray();
                boolean differs = false;
                for (int i = 0; i < plain.length; i++) {
                    differs |= plain[i] != dropped[i];
                }
                assertTrue(differs, "training with p = 0.5 changes the output");
            }
            GradCheck.Report rep = GradCheck.check(v -> l.forward(v.get(0), 7), java.util.List.of(x), 1e-2);
            assertTrue(rep.passed(5e-3), rep.maxError() + " at " + rep.where());
            l.parameters().forEach(Var::zeroGrad);
            assertThrows(IllegalArgumentException.class, () -> l.setDropout(1.0));
        }
    }

    @Test
    void aTinyTaskIsLearnedByTheAdapterOverAnNf4Base() {
        // Target: a fixed random linear map; the base is a different one. Only A and B train.
        SplittableRandom r = new SplittableRandom(9);
        int in = 64;
        int out = 16;
        try (Tensor w = TestTensors.gaussian(r, 0.1, out, in); FourBitWeight q = FourBitWeight.quantize(w, QuantType.NF4, 64, true);
             Tensor target = TestTensors.gaussian(r, 0.1, out, in); Tensor x = TestTensors.gaussian(r, 1, 32, in);
             LoraLinear l = LoraLinear.create(FrozenWeight.of(q), 8, 16, false, LoraLinear.Init.KAIMING_UNIFORM, 10);
             AdamW opt = new AdamW(0.9f, 0.999f, 1e-8f, 0f);
             Tensor y = FrozenWeight.of(target).forward(x)) {
            double first = 0;
            double last = 0;
            for (int step = 0; step < 200; step++) {
                try (Scope s = Scope.open()) {
                    Var diff = F.sub(l.forward(Var.leaf(x, false)), Var.leaf(y, false));
                    Var loss = F.mean(F.mul(diff, diff));
                    Tape.backward(loss);
                    double value = loss.value().getFlat(0);
                    if (step == 0) {
                        first = value;
                    }
                    last = value;
                    Training.clipGradNorm(l.parameters(), 1.0);
                    opt.step(l.parameters(), Training.warmupCosine(1e-2f, 10, 200, step));
                    l.parameters().forEach(Var::zeroGrad);
                }
            }
            assertTrue(last < 0.2 * first, "loss fell from " + first + " to " + last);
            assertEquals(2 * (8 * in + out * 8) * 4L, opt.stateBytes(), "AdamW state for A and B only");
        }
    }
}
