// Fuzz target tokenizer-files: vocab.txt / tokenizer.json / tokenizer_config.json loading, then tokenizing with the result.
import Foundation
import RecAlignTokenizer

/// A small valid vocabulary written beside a fuzzed tokenizer_config.json.
let smallVocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\nto\n##y\nstory\n(\n)\n1\n##9\n##5\n"

/// Input starting with `{` (after whitespace) is a tokenizer.json and a tokenizer_config.json beside a
/// small vocab.txt; anything else is a vocab.txt. A loaded tokenizer must then tokenize its own input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let text = String(decoding: bytes, as: UTF8.self)
    var loaded: [BertTokenizer] = []
    if bytes.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x09 && $0 != 0x0D }) == 0x7B {
        let json = writeScratch("tokenizer.json", bytes)
        if let t = try? BertTokenizer(tokenizerJSON: URL(fileURLWithPath: json)) { loaded.append(t) }
        _ = writeScratch("tokenizer_config.json", bytes)
        let vocab = writeScratch("vocab.txt", smallVocab)
        if let t = try? BertTokenizer(vocabFile: URL(fileURLWithPath: vocab)) { loaded.append(t) }
        removeScratch("tokenizer_config.json")
    } else {
        let vocab = writeScratch("vocab.txt", bytes)
        if let t = try? BertTokenizer(vocabFile: URL(fileURLWithPath: vocab)) { loaded.append(t) }
    }
    for t in loaded {
        let ids = t.tokenIDs(text)
        precondition(ids.count == t.countTokens(text), "tokenIDs and countTokens disagree")
        precondition(t.tokenize(text).count == ids.count, "tokenize and tokenIDs disagree")
        _ = t.tokenize("Toy Story (1995) [CLS] the [UNK] to story [SEP] [PAD] [MASK]")
        _ = t.encodeBatch([text, "", "[CLS] x"], maxLength: 8)
    }
    return 0
}
