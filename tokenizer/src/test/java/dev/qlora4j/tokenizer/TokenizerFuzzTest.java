package dev.qlora4j.tokenizer;

import dev.qlora4j.testkit.FuzzCampaign;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mutated tokenizer.json files in the layouts of GPT-2, Llama 2 and Llama 3 are loaded and used
 * (encode, decode, stream) or refused: at load with a TokenizerException naming the file, at
 * encode with an IllegalArgumentException naming the text it cannot cover.
 */
class TokenizerFuzzTest {
    @TempDir
    Path dir;

    @Test
    void mutatedTokenizerFilesLoadAndEncodeOrAreRefused() {
        List<byte[]> seeds = List.of(bytes(ByteLevelBpeTest.gpt2(true)),
                bytes(SentencePieceBpeTest.llama2(SentencePieceBpeTest.MERGES, true)),
                bytes(SentencePieceBpeTest.metaspace("first")), bytes(Llama3StyleTest.llama3(false)));
        Path file = dir.resolve("tokenizer.json");
        FuzzCampaign.Outcome o = FuzzCampaign.run("tokenizer", seeds, Set.of(TokenizerException.class, IOException.class, IllegalArgumentException.class),
                FuzzCampaign.Limits.heap(2000, 8 << 20), input -> {
                    Files.write(file, input);
                    Tokenizer t = Tokenizer.load(file);
                    int[] ids = t.encode("Hello world, héllo 34 ünï 😀\n", true);
                    t.decode(ids, false);
                    StreamDecoder s = t.streamDecoder(true);
                    for (int id : ids) {
                        s.next(id);
                        t.tokenOf(id);
                    }
                    s.finish();
                });
        assertTrue(o.refused() > 0 && o.accepted() > 0, o.toString());
    }

    private static byte[] bytes(Object spec) {
        return Fixtures.toJson(spec).getBytes(StandardCharsets.UTF_8);
    }
}
