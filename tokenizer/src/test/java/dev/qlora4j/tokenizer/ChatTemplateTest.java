package dev.qlora4j.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.qlora4j.tokenizer.Fixtures.obj;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The exact prompt strings of each format, written out by hand from Meta's templates. */
class ChatTemplateTest {
    @TempDir
    Path dir;

    static final List<Message> CHAT = List.of(new Message("system", "Be brief."), new Message("user", "Hi"),
            new Message("assistant", "Hello!"), new Message("user", "Bye"));

    @Test
    void plain() {
        assertEquals("Be brief.\nHi\nHello!\nBye\n", ChatTemplate.PLAIN.format(CHAT, true));
    }

    @Test
    void llama3() {
        assertEquals("<|begin_of_text|>"
                + "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n", ChatTemplate.LLAMA3.format(CHAT, true));
        assertEquals("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
                ChatTemplate.LLAMA3.format(List.of(new Message("user", " Hi\n")), false));
    }

    @Test
    void llama2() {
        assertEquals("<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] Bye [/INST]",
                ChatTemplate.LLAMA2.format(CHAT, true));
        assertEquals("<s>[INST] Hi [/INST]", ChatTemplate.LLAMA2.format(List.of(new Message("user", "Hi")), true));
    }

    @Test
    void llama2RejectsRolesOutOfOrder() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ChatTemplate.LLAMA2.format(List.of(new Message("assistant", "Hi")), false));
        assertTrue(e.getMessage().contains("\"assistant\"") && e.getMessage().contains("expected user"), e.getMessage());
    }

    @Test
    void detectFromTokenizerConfig() throws Exception {
        assertEquals(ChatTemplate.PLAIN, ChatTemplate.detect(dir));
        Path config = dir.resolve("tokenizer_config.json");
        Files.writeString(config, Fixtures.toJson(obj("chat_template",
                "{% for message in messages %}{{ '<|start_header_id|>' + message['role'] }}{% endfor %}")));
        assertEquals(ChatTemplate.LLAMA3, ChatTemplate.detect(dir));
        Files.writeString(config, Fixtures.toJson(obj("chat_template", "{{ bos_token + '[INST] ' + content }}")));
        assertEquals(ChatTemplate.LLAMA2, ChatTemplate.detect(dir));
        Files.writeString(config, Fixtures.toJson(obj("chat_template", Fixtures.arr(
                obj("name", "tool_use", "template", "[INST]"), obj("name", "default", "template", "<|start_header_id|>")))));
        assertEquals(ChatTemplate.LLAMA3, ChatTemplate.detect(dir));
        Files.writeString(config, Fixtures.toJson(obj("chat_template", "{{ '<|im_start|>' }}")));
        assertEquals(ChatTemplate.PLAIN, ChatTemplate.detect(dir));
    }
}
