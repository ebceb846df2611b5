// Fuzz target corpus: the RecBole atomic, MovieLens and JSONL corpus loaders on arbitrary file contents.
import Foundation
import RecAlignData

/// Valid companion files, so that a fuzzed .item / u.item / items.jsonl is read past the interactions.
let recboleInter = "user_id:token\titem_id:token\ttimestamp:float\n1\t10\t1\n1\t11\t2\n2\t10\t3\n2\t12\t4\n"
let movieLensData = "1\t10\t5\t1\n1\t11\t3\t2\n2\t10\t4\t3\n2\t12\t1\t4\n"
let jsonlInteractions = """
{"user_id": 1, "item_id": "10", "timestamp": 1}
{"user_id": 1, "item_id": "11", "timestamp": 2}
{"user_id": "2", "item_id": 10, "timestamp": "3"}

"""

/// The folder the corpus files are written to, and every name written there (removed before each input).
let corpusFolder: String = {
    let dir = fuzzScratch + "/corpus"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}()
let corpusFiles = ["corpus.inter", "corpus.item", "corpus.user", "u.data", "u.item", "u.user",
                   "interactions.jsonl", "items.jsonl"]

/// The first byte picks the file the rest becomes (low 3 bits) and the load options (bit 3: skip bad
/// lines; bit 4: keep users with a single interaction).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let mode = data[0]
    let rest = UnsafeBufferPointer(start: data + 1, count: size - 1)
    let options = LoadOptions(skipBadLines: mode & 8 != 0, minUserInteractions: mode & 16 != 0 ? 1 : 5)
    let dir = corpusFolder
    for name in corpusFiles { unlink(dir + "/" + name) }
    func write(_ name: String, _ bytes: UnsafeBufferPointer<UInt8>) {
        _ = FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(buffer: bytes))
    }
    func write(_ name: String, _ text: String) {
        _ = FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(text.utf8))
    }
    switch mode & 7 {
    case 0: write("corpus.inter", rest)
    case 1: write("corpus.inter", recboleInter); write("corpus.item", rest)
    case 2: write("corpus.inter", recboleInter); write("corpus.user", rest)
    case 3: write("u.data", rest)
    case 4: write("u.data", movieLensData); write("u.item", rest)
    case 5: write("u.data", movieLensData); write("u.user", rest)
    case 6: write("interactions.jsonl", rest)
    default: write("interactions.jsonl", jsonlInteractions); write("items.jsonl", rest)
    }
    guard let ds = try? CorpusLoader.load(path: dir, options: options) else { return 0 }
    _ = ds.report.description
    // Ratings, when kept, are one per interaction and finite.
    if let r = ds.ratings { precondition(r.count == ds.interactions.count && r.allSatisfy(\.isFinite)) }
    return 0
}
