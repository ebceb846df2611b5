// RerankResumeCLITests: `rerank --resume` keeps an earlier run's users, asks only the rest, refuses other input.
import Foundation
import Testing
import RecAlignTestSupport

@Suite(.serialized) struct RerankResumeCLITests {
    static let candidates = TestPaths.corpusFixture("candidates_small.jsonl")

    /// Answers with the listed ids reversed; the requests numbered in `failing` get a 500.
    static func server(failing: Set<Int> = []) throws -> LocalHTTPServer {
        try LocalHTTPServer { i, req in
            if failing.contains(i) { return .respond(status: 500, body: "{}", delay: 0) }
            let body = (try? JSONSerialization.jsonObject(with: Data(req.body.utf8))) as? [String: Any] ?? [:]
            let schema = ((body["response_format"] as? [String: Any])?["json_schema"] as? [String: Any])?["schema"] as? [String: Any]
            let ids = ((schema?["items"] as? [String: Any])?["enum"] as? [String]) ?? []
            let n = schema?["minItems"] as? Int ?? 1
            let answer = "[" + ids.reversed().prefix(n).map { "\"\($0)\"" }.joined(separator: ",") + "]"
            return .respond(status: 200, body: LocalHTTPServer.chatBody(answer), delay: 0)
        }
    }

    static func rerank(_ server: LocalHTTPServer, out: String, extra: [String] = []) throws -> CLI.Result {
        try CLI.run(["rerank", "--candidates", candidates, "--server", server.url.absoluteString, "--model", "stub",
                     "--retries", "0", "--out", out] + extra)
    }

    /// (user, status, candidate order) of each output line.
    static func lines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let ids = (o["candidates"] as? [[String: Any]] ?? []).compactMap { $0["item_id"] as? String }
            let status = (o["rerank"] as? [String: Any])?["status"] as? String ?? "?"
            return "\(o["user_id"] ?? "?") \(status) \(ids.joined(separator: ","))"
        }
    }

    /// A run over 3 users whose second request fails, resumed over all 6: the resumed run asks the failed user
    /// and the 3 new ones only, and its output equals one healthy run over all 6.
    @Test func resumeAsksOnlyMissingAndFailedUsers() throws {
        let dir = TestPaths.tempDir("rerank-resume")
        let out = dir + "/r.jsonl", fresh = dir + "/fresh.jsonl"
        let first = try RerankResumeCLITests.server(failing: [1])
        defer { first.stop() }
        let r1 = try RerankResumeCLITests.rerank(first, out: out, extra: ["--limit", "3"])
        #expect(r1.status == 0, "\(r1.stderr)")
        #expect(try RerankResumeCLITests.lines(out)[1].contains(" transport_failure "))

        let second = try RerankResumeCLITests.server()
        defer { second.stop() }
        let r2 = try RerankResumeCLITests.rerank(second, out: out, extra: ["--resume"])
        #expect(r2.status == 0, "\(r2.stderr)")
        #expect(second.requests.count == 4)
        #expect(r2.stderr.contains("resuming: 2 users kept from \(out), 4 to rerank"))
        #expect(r2.stdout.contains("ok 6, partial 0, parse failures 0"))

        let third = try RerankResumeCLITests.server()
        defer { third.stop() }
        let r3 = try RerankResumeCLITests.rerank(third, out: fresh)
        #expect(r3.status == 0, "\(r3.stderr)")
        #expect(try RerankResumeCLITests.lines(out) == RerankResumeCLITests.lines(fresh))
        #expect(try RerankResumeCLITests.lines(out).count == 6)
    }

    /// An output over other candidates is refused by file and line, and left as it was.
    @Test func resumeRefusesAnotherRunsOutput() throws {
        let dir = TestPaths.tempDir("rerank-resume-other")
        let out = dir + "/r.jsonl"
        let server = try RerankResumeCLITests.server()
        defer { server.stop() }
        #expect(try RerankResumeCLITests.rerank(server, out: out, extra: ["--limit", "2"]).status == 0)
        var lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map(String.init)
        var first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        first["user_id"] = "someone-else"
        lines[0] = String(decoding: try JSONSerialization.data(withJSONObject: first), as: UTF8.self)
        let text = lines.joined(separator: "\n") + "\n"
        try text.write(toFile: out, atomically: true, encoding: .utf8)
        let r = try RerankResumeCLITests.rerank(server, out: out, extra: ["--resume"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("\(out):1") && r.stderr.contains("someone-else"), "\(r.stderr)")
        #expect(try String(contentsOfFile: out, encoding: .utf8) == text)
    }
}
