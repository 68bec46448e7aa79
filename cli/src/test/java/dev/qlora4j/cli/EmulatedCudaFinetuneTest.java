package dev.qlora4j.cli;

import dev.qlora4j.cuda.CudaProbe;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code finetune --device cuda} and {@code generate --device cuda} end to end on the CUDA host emulator
 * (cuda/emulator/), which runs the kernel sources on the CPU: a few steps on a barely trained demo base,
 * a checkpoint and a resume from it, and the same run with gradient checkpointing, enough to show the
 * whole path works on a device, not that it learns (FinetuneCommandTest shows that).
 */
@Tag("cuda-emulated")
class EmulatedCudaFinetuneTest {
    @TempDir
    Path dir;

    @Test
    void aFewStepsOnTheDeviceCheckpointResumeAndWriteAnAdapterThatGenerates() throws Exception {
        CudaProbe.Result cuda = CudaProbe.run();
        assumeTrue(cuda.usable() && cuda.emulated(), "the CUDA host emulator is not loaded: " + cuda.detail());
        Path base = FinetuneFixtures.base(dir, 2, 3);
        Path data = FinetuneFixtures.shiftData(dir, 8);

        Path out = dir.resolve("adapter");
        CommandRun ft = CommandRun.of("finetune", "--model", base.toString(), "--data", data.toString(), "--out", out.toString(),
                "--batch", "4", "--steps", "3", "--lr", "1e-2", "--save-every", "2", "--device", "cuda");
        assertEquals(0, ft.status(), ft.out() + ft.err());
        assertTrue(ft.out().startsWith("device: cuda:0\n") && ft.out().contains("3/3"), ft.out());
        Matcher loss = Pattern.compile("loss ([^ ]+) ").matcher(ft.out());
        String last = null;
        while (loss.find()) {
            last = loss.group(1);
        }
        assertTrue(last != null && Double.isFinite(Double.parseDouble(last)), "last loss " + last + " in\n" + ft.out());
        assertTrue(Files.size(out.resolve("adapter_model.safetensors")) > 0 && Files.isRegularFile(out.resolve("adapter_config.json")));
        assertTrue(Files.isRegularFile(out.resolve("checkpoints/latest")), "a checkpoint written from the device");
        byte[] uninterrupted = Files.readAllBytes(out.resolve("adapter_model.safetensors"));
        CommandRun resumed = CommandRun.of("finetune", "--model", base.toString(), "--data", data.toString(), "--out", out.toString(),
                "--batch", "4", "--steps", "3", "--lr", "1e-2", "--save-every", "2", "--device", "cuda", "--resume");
        assertEquals(0, resumed.status(), resumed.out() + resumed.err());
        assertTrue(resumed.out().contains("resumed from step 2"), resumed.out());
        assertArrayEquals(uninterrupted, Files.readAllBytes(out.resolve("adapter_model.safetensors")));
        // Checkpointing on the device recomputes each layer and reaches the same adapter, bit for bit, with
        // the layer inputs kept in host memory and the loss in chunks of a row.
        Path checkpointed = dir.resolve("checkpointed");
        CommandRun ck = CommandRun.of("finetune", "--model", base.toString(), "--data", data.toString(), "--out",
                checkpointed.toString(), "--batch", "4", "--steps", "3", "--lr", "1e-2", "--save-every", "2", "--device", "cuda",
                "--gradient-checkpointing", "--offload-checkpoints", "--loss-chunk", "1");
        assertEquals(0, ck.status(), ck.out() + ck.err());
        assertTrue(ck.out().contains("layer inputs kept in host memory") && ck.out().contains("peak memory on cuda:0: "), ck.out());
        assertArrayEquals(uninterrupted, Files.readAllBytes(checkpointed.resolve("adapter_model.safetensors")));

        CommandRun g = CommandRun.of("generate", "--model", base.toString(), "--adapter", out.toString(), "--prompt",
                DemoTask.prompt(DemoTask.Kind.SHIFT, "abcdef"), "--temperature", "0", "--max-tokens", "2", "--device", "cuda");
        assertEquals(0, g.status(), g.err());
        assertTrue(g.out().startsWith(DemoTask.prompt(DemoTask.Kind.SHIFT, "abcdef")), g.out());
    }
}
