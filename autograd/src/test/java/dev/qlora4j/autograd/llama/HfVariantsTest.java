package dev.qlora4j.autograd.llama;

import dev.qlora4j.autograd.Tape;
import dev.qlora4j.engine.Scope;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.safetensors.SafetensorsFile;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Objects;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hugging Face folders of every Llama-shaped config variant against the logits transformers'
 * semantics give them (tests/reference/llama_variants_reference.py, float64 numpy written from
 * modeling_llama, modeling_qwen2 and the rope-initialisation functions): rope scaling of types
 * llama3 (frequencies below, between and above the thresholds), linear and dynamic, transformers
 * v5's rope_parameters, explicit head_dim, attention and MLP biases, Qwen2's q/k/v biases, tied
 * embeddings, BF16 weights in shards. Loaded as F32, they match to 1e-4 of the largest logit.
 */
class HfVariantsTest {
    @ParameterizedTest
    @ValueSource(strings = {"llama2", "llama3_gqa", "llama3_scaling", "linear_scaling", "dynamic_scaling", "tied",
            "head_dim", "biases", "qwen2", "bf16_sharded", "rope_parameters"})
    void logitsMatchTransformersSemantics(String variant) throws Exception {
        Path dir = resource(variant);
        try (Scope s = Scope.open(); Tape.NoGrad off = Tape.noGrad();
             SafetensorsFile expected = SafetensorsFile.open(dir.resolve("expected.safetensors"));
             LlamaModel model = LlamaModel.load(dir, BaseFormat.F32)) {
            // dynamic_scaling runs 24 tokens past its 16 positions: the case its scaling exists for.
            model.allowLongerContext(true);
            Tensor ids = expected.tensor("ids");
            float[] want = expected.tensor("logits").toFloatArray();
            float[] got = model.forward(ids).value().toFloatArray();
            assertEquals(want.length, got.length);
            double scale = 0;
            for (float w : want) {
                scale = Math.max(scale, Math.abs(w));
            }
            double worst = 0;
            for (int i = 0; i < want.length; i++) {
                worst = Math.max(worst, Math.abs(got[i] - want[i]));
            }
            assertTrue(worst <= 1e-4 * scale, variant + ": max |Δ| " + worst + " over logits up to " + scale);
        }
    }

    static Path resource(String variant) throws URISyntaxException {
        return Path.of(Objects.requireNonNull(HfVariantsTest.class.getResource("/hf-variants/" + variant), variant).toURI());
    }
}
