/** A strict RFC 8259 JSON reader and the string quoting a writer needs; depends on nothing. */
module dev.qlora4j.json {
    exports dev.qlora4j.json;
}
