// Fixture: locates and loads the small candidates.jsonl fixture shared by the rerank tests.
import Foundation
import RecAlignMetrics

enum Fixture {
    /// Repository root, from this file's path (Tests/RecAlignRerankTests/Fixture.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let candidatesPath = root.appendingPathComponent("corpora/fixtures/candidates_small.jsonl").path

    /// The six fixture users: 196, 186, 22, 244, 166, 298.
    static func records() throws -> [CandidateRecord] { try CandidatesFile.read(path: candidatesPath) }

    static func record(_ id: String) throws -> CandidateRecord {
        try records().first { $0.userId == id }!
    }

    /// A fresh temporary folder.
    static func tempDir() -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("recalign-rerank-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }
}
