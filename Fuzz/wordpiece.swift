// Fuzz target wordpiece: the real BERT tokenizer (Tests/Fixtures/tokenizer) on arbitrary, possibly invalid, UTF-8.
import Foundation
import RecAlignTokenizer

/// Loaded once from the fixture vocabulary (the fuzzer runs from the repository root).
let tokenizer: BertTokenizer = {
    do { return try BertTokenizer(vocabFile: URL(fileURLWithPath: "Tests/Fixtures/tokenizer/vocab.txt")) } catch {
        fatalError("wordpiece fuzz target: cannot load Tests/Fixtures/tokenizer/vocab.txt: \(error)")
    }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let ids = tokenizer.tokenIDs(text)
    precondition(ids.count == tokenizer.countTokens(text), "tokenIDs and countTokens disagree")
    precondition(ids.allSatisfy { tokenizer.token(of: $0) != nil }, "an id outside the vocabulary")
    let tokens = tokenizer.tokenize(text)
    precondition(tokens.count == ids.count, "tokenize and tokenIDs disagree")
    let e = tokenizer.encode(text, maxLength: 16)
    precondition(e.ids.count <= 16, "encode ignored maxLength")
    _ = tokenizer.encodeBatch([text, String(text.prefix(3))], maxLength: 12)
    return 0
}
