package dev.qlora4j.tests;

import dev.qlora4j.autograd.AdamW;
import dev.qlora4j.autograd.F;
import dev.qlora4j.autograd.FrozenWeight;
import dev.qlora4j.autograd.LoraLinear;
import dev.qlora4j.autograd.Tape;
import dev.qlora4j.autograd.Var;
import dev.qlora4j.autograd.llama.BaseFormat;
import dev.qlora4j.autograd.llama.LlamaModel;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.Scope;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.safetensors.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * qlora4j against float64 PyTorch (tests/reference/torch_reference.py, written from the
 * architecture): the LoRA layer's output and gradients for both scalings, and a 2-layer Llama
 * decoder with LoRA on q and v — logits, loss, every adapter gradient and five AdamW steps. Our side
 * computes in f32, so values agree to f32 rounding: about 1e-4 relative to each tensor's scale.
 */
class TorchReferenceTest {
    @TempDir
    Path dir;

    private static Path vectors(String name) throws Exception {
        return Path.of(Objects.requireNonNull(TorchReferenceTest.class.getResource("/torch/" + name), name).toURI());
    }

    /** |got - expected| ≤ rtol · max|expected| element by element. */
    private static void assertClose(String what, Tensor expected, Tensor got, double rtol) {
        float[] e = expected.toFloatArray();
        float[] g;
        try (Tensor c = got.contiguous()) {
            g = c.toFloatArray();
        }
        assertEquals(e.length, g.length, what + " size");
        double scale = 0;
        for (float v : e) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < e.length; i++) {
            if (Math.abs(g[i] - e[i]) > rtol * scale) {
                fail(what + "[" + i + "] = " + g[i] + ", PyTorch " + e[i] + " (tolerance " + rtol * scale + ")");
            }
        }
    }

    @Test
    void loraLinearForwardAndGradientsForBothScalings() throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(vectors("lora_linear.safetensors"))) {
            float alpha = Float.parseFloat(f.metadata().get("alpha"));
            int r = Integer.parseInt(f.metadata().get("r"));
            for (String tag : new String[]{"std", "rs"}) {
                float scaling = (float) (tag.equals("std") ? alpha / r : alpha / Math.sqrt(r));
                try (Scope s = Scope.open()) {
                    Var x = Var.leaf(Ops.cast(f.tensor("x"), DType.F32), true);
                    Var a = Var.leaf(Ops.cast(f.tensor("A"), DType.F32), true);
                    Var b = Var.leaf(Ops.cast(f.tensor("B"), DType.F32), true);
                    Var y = F.lora(x, FrozenWeight.of(f.tensor("W")), a, b, scaling);
                    assertClose("y_" + tag, f.tensor("y_" + tag), y.value(), 1e-5);
                    Tape.backward(F.sum(F.mul(y, Var.leaf(f.tensor("dy"), false))));
                    assertClose("dx_" + tag, f.tensor("dx_" + tag), x.grad(), 1e-5);
                    assertClose("dA_" + tag, f.tensor("dA_" + tag), a.grad(), 1e-5);
                    assertClose("dB_" + tag, f.tensor("dB_" + tag), b.grad(), 1e-5);
                    java.util.List.of(x, a, b).forEach(Var::zeroGrad);
                }
            }
        }
    }

    @Test
    void llamaDecoderWithLoraMatchesPyTorchThroughFiveAdamWSteps() throws Exception {
        Path file = vectors("llama_lora.safetensors");
        Map<String, String> meta;
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            meta = f.metadata();
        }
        // The vector file holds the base weights under Hugging Face names: serve it as a model folder.
        Files.writeString(dir.resolve("config.json"), "{\"hidden_size\": " + meta.get("hidden_size")
                + ", \"num_hidden_layers\": " + meta.get("num_layers") + ", \"num_attention_heads\": " + meta.get("num_heads")
                + ", \"num_key_value_heads\": " + meta.get("num_kv_heads") + ", \"intermediate_size\": " + meta.get("intermediate_size")
                + ", \"vocab_size\": " + meta.get("vocab_size") + ", \"rope_theta\": " + meta.get("rope_theta")
                + ", \"rms_norm_eps\": " + meta.get("rms_eps") + ", \"tie_word_embeddings\": false}");
        Files.copy(file, dir.resolve("model.safetensors"));
        int rank = Integer.parseInt(meta.get("lora_r"));
        float alpha = Float.parseFloat(meta.get("lora_alpha"));
        float lr = Float.parseFloat(meta.get("lr"));
        float wd = Float.parseFloat(meta.get("weight_decay"));
        try (LlamaModel m = LlamaModel.load(dir, BaseFormat.F32); SafetensorsFile f = SafetensorsFile.open(file);
             AdamW opt = new AdamW(0.9f, 0.999f, 1e-8f, wd)) {
            m.attachLora(Set.of(meta.get("lora_targets").split(",")), rank, alpha, false, 0);
            for (Map.Entry<String, LoraLinear> e : m.adapters().entrySet()) {
                String peft = "base_model.model." + e.getKey().substring(0, e.getKey().length() - ".weight".length());
                copy(f.tensor(peft + ".lora_A.weight"), e.getValue().loraA().value());
                copy(f.tensor(peft + ".lora_B.weight"), e.getValue().loraB().value());
            }
            Tensor ids = f.tensor("ids");
            Tensor targets = f.tensor("targets");
            int ignore = Integer.parseInt(meta.get("ignore_index"));
            Tensor losses = f.tensor("expected.losses");
            for (int step = 0; step < losses.numel(); step++) {
                try (Scope s = Scope.open()) {
                    Var logits = m.forward(ids);
                    Var loss = F.crossEntropy(logits, targets, ignore);
                    if (step == 0) {
                        assertClose("logits", f.tensor("expected.logits"), logits.value(), 1e-5);
                        assertClose("loss", f.tensor("expected.loss"), loss.value(), 1e-5);
                    }
                    assertEquals(losses.getFlat(step), loss.value().getFlat(0), 1e-4 * losses.getFlat(step), "loss before step " + (step + 1));
                    Tape.backward(loss);
                    if (step == 0) {
                        for (Map.Entry<String, LoraLinear> e : m.adapters().entrySet()) {
                            String peft = "base_model.model." + e.getKey().substring(0, e.getKey().length() - ".weight".length());
                            assertClose("grad " + peft + ".lora_A", f.tensor("grad." + peft + ".lora_A.weight"), e.getValue().loraA().grad(), 1e-4);
                            assertClose("grad " + peft + ".lora_B", f.tensor("grad." + peft + ".lora_B.weight"), e.getValue().loraB().grad(), 1e-4);
                        }
                    }
                    opt.step(m.trainableParameters(), lr);
                    m.trainableParameters().forEach(Var::zeroGrad);
                }
            }
            for (Map.Entry<String, LoraLinear> e : m.adapters().entrySet()) {
                String peft = "base_model.model." + e.getKey().substring(0, e.getKey().length() - ".weight".length());
                assertClose("after 5 AdamW steps " + peft + ".lora_A", f.tensor("adamw5." + peft + ".lora_A.weight"),
                        e.getValue().loraA().value(), 1e-4);
                assertClose("after 5 AdamW steps " + peft + ".lora_B", f.tensor("adamw5." + peft + ".lora_B.weight"),
                        e.getValue().loraB().value(), 1e-4);
            }
        }
    }

    private static void copy(Tensor src, Tensor dst) {
        try (src) {
            for (int i = 0; i < src.numel(); i++) {
                dst.setFlat(i, src.getFlat(i));
            }
        }
    }
}
