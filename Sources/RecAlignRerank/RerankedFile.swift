// RerankedFile: rerank's JSONL output read back (for --resume and --fusion-from), every line checked.
import Foundation
import RecAlignFormats

public enum RerankedFile {
    /// The records of a reranked JSONL with their 1-based line numbers (blank lines skipped). Every line must
    /// decode as a `RerankedRecord` whose retriever order and LLM order each list exactly its candidates;
    /// otherwise throws naming the file and line. With `truncatedTail`, a last line that has no line break and
    /// does not decode is dropped instead (a checkpoint whose writer was stopped in the middle of a line).
    public static func read(_ path: String, truncatedTail: Bool = false) throws -> [(line: Int, record: RerankedRecord)] {
        let text = try TextFile.read(path)
        let lines = TextFile.lines(text)
        let dec = JSONDecoder()
        var out: [(line: Int, record: RerankedRecord)] = []
        for (i, line) in lines.enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            func bad(_ why: String) -> RerankInputError { .invalid(path: path, line: i + 1, reason: why) }
            guard let r = try? dec.decode(RerankedRecord.self, from: Data(line.utf8)) else {
                if truncatedTail, i == lines.count - 1, !text.hasSuffix("\n") { break }
                throw bad("not a reranked record (rerank's output)")
            }
            let ids = r.record.candidates.map(\.itemId)
            guard r.rerank.retrieverOrder.count == ids.count, Set(r.rerank.retrieverOrder) == Set(ids) else {
                throw bad("user \(r.record.userId): the retriever order does not list the record's candidates")
            }
            let llm = r.llmOrder
            guard llm.count == ids.count, Set(llm) == Set(ids) else {
                throw bad("user \(r.record.userId): the LLM order does not list the record's candidates")
            }
            out.append((i + 1, r))
        }
        return out
    }
}
