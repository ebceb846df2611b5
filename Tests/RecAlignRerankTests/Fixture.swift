// Fixture: locates and loads the small candidates.jsonl fixture shared by the rerank tests.
import Foundation
import RecAlignMetrics
import RecAlignTestSupport

enum Fixture {
    static let candidatesPath = TestPaths.corpusFixture("candidates_small.jsonl")

    /// The six fixture users: 196, 186, 22, 244, 166, 298.
    static func records() throws -> [CandidateRecord] { try CandidatesFile.read(path: candidatesPath) }

    static func record(_ id: String) throws -> CandidateRecord {
        try records().first { $0.userId == id }!
    }

    /// A fresh temporary folder.
    static func tempDir() -> URL { URL(fileURLWithPath: TestPaths.tempDir("rerank")) }
}
