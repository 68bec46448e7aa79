/** Hugging Face tokenizer.json tokenizers (byte-level and SentencePiece-style BPE) and chat templates. */
module dev.qlora4j.tokenizer {
    requires dev.qlora4j.json;
    exports dev.qlora4j.tokenizer;
}
