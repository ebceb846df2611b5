// RerankInputTests: bad candidates files give errors that name the file and the line.
import Foundation
import Testing
@testable import RecAlignRerank

@Suite struct RerankInputTests {
    func write(_ text: String) throws -> String {
        let p = Fixture.tempDir().appendingPathComponent("c.jsonl").path
        try text.write(toFile: p, atomically: true, encoding: .utf8)
        return p
    }

    @Test func fixtureLoads() throws {
        #expect(try RerankInput.load(path: Fixture.candidatesPath).count == 6)
    }

    @Test func duplicateCandidateNamesTheLine() throws {
        let ok = #"{"user_id":"1","history":[],"candidates":[{"item_id":"a","text":"A"}]}"#
        let dup = #"{"user_id":"2","history":[],"candidates":[{"item_id":"a","text":"A"},{"item_id":"a","text":"A"}]}"#
        let p = try write(ok + "\n\n" + dup + "\n")
        #expect(throws: RerankInputError.invalid(path: p, line: 3, reason: "user 2: candidate a is listed twice")) {
            try RerankInput.load(path: p)
        }
    }

    @Test func malformedJSONNamesTheLine() throws {
        let p = try write(#"{"user_id":"1","history":[],"candidates":[]}"# + "\n{not json\n")
        do { _ = try RerankInput.load(path: p); Issue.record("expected an error") } catch {
            #expect("\(error)".hasPrefix("\(p):2:"))
        }
    }

    @Test func missingAndEmptyFiles() throws {
        #expect(throws: RerankInputError.missing(path: "/nonexistent/c.jsonl")) { try RerankInput.load(path: "/nonexistent/c.jsonl") }
        let p = try write("\n\n")
        #expect(throws: RerankInputError.empty(path: p)) { try RerankInput.load(path: p) }
    }
}
