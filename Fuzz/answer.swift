// Fuzz target answer: AnswerParser on arbitrary model output against a fixed candidate list.
import Foundation
import RecAlignRerank
import RecAlignMetrics

/// The parser tests' candidates (the seeds are their answers) plus a shared title, an accented title, an
/// empty text and an id that looks like a list marker.
let candidates: [CandidateItem] = [
    CandidateItem(itemId: "204", text: "Back to the Future (1985) Comedy Sci-Fi"),
    CandidateItem(itemId: "178", text: "12 Angry Men (1957) Drama"),
    CandidateItem(itemId: "98", text: "Silence of the Lambs, The (1991) Drama Thriller"),
    CandidateItem(itemId: "7", text: "Twelve Monkeys (1995) Drama Sci-Fi"),
    CandidateItem(itemId: "183", text: "Alien (1979) Action Horror Sci-Fi Thriller"),
    CandidateItem(itemId: "176", text: "Aliens (1986) Action Sci-Fi Thriller War"),
    CandidateItem(itemId: "12", text: "Usual Suspects, The (1995) Crime Thriller"),
    CandidateItem(itemId: "a", text: "Heat (1995) Action Crime Thriller"),
    CandidateItem(itemId: "b", text: "Heat (1986) Action"),
    CandidateItem(itemId: "item_7", text: "Amélie (2001) Comédie"),
    CandidateItem(itemId: "x", text: ""),
    CandidateItem(itemId: "[3]", text: "(1999)"),
]
let parser = AnswerParser(candidates: candidates, expected: 5)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let answer = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let r = parser.parse(answer)
    precondition(r.order.sorted() == candidates.map(\.itemId).sorted(), "order is not a permutation of the candidates")
    precondition(r.recognized >= 0 && r.recognized <= candidates.count, "recognized out of range")
    return 0
}
