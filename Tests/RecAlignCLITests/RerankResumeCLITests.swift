// RerankResumeCLITests: `rerank --resume` keeps an earlier run's users, asks only the rest, refuses other input.
import Foundation
import Testing
import RecAlignTestSupport

@Suite(.serialized) struct RerankResumeCLITests {
    static let candidates = TestPaths.corpusFixture("candidates_small.jsonl")

    /// Answers with the listed ids reversed; the requests numbered in `failing` get a 500, those from `stallFrom`
    /// on are answered only after a minute.
    static func server(failing: Set<Int> = [], stallFrom: Int = .max) throws -> LocalHTTPServer {
        try LocalHTTPServer { i, req in
            if failing.contains(i) { return .respond(status: 500, body: "{}", delay: 0) }
            let delay: Double = i >= stallFrom ? 60 : 0
            let body = (try? JSONSerialization.jsonObject(with: Data(req.body.utf8))) as? [String: Any] ?? [:]
            let schema = ((body["response_format"] as? [String: Any])?["json_schema"] as? [String: Any])?["schema"] as? [String: Any]
            let ids = ((schema?["items"] as? [String: Any])?["enum"] as? [String]) ?? []
            let n = schema?["minItems"] as? Int ?? 1
            let answer = "[" + ids.reversed().prefix(n).map { "\"\($0)\"" }.joined(separator: ",") + "]"
            return .respond(status: 200, body: LocalHTTPServer.chatBody(answer), delay: delay)
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

    /// A run killed while its 4th user waits leaves those answered in `<out>.partial` (and no output); resumed,
    /// it asks only the other 3 (a half-written last checkpoint line is dropped), writes what one healthy run
    /// writes, and removes the checkpoint.
    @Test func anInterruptedRunResumesFromItsCheckpoint() throws {
        let dir = TestPaths.tempDir("rerank-resume-killed")
        let out = dir + "/not-yet/r.jsonl", partial = out + ".partial", fresh = dir + "/fresh.jsonl"
        let stalling = try RerankResumeCLITests.server(stallFrom: 3)
        defer { stalling.stop() }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = ["rerank", "--candidates", RerankResumeCLITests.candidates, "--server", stalling.url.absoluteString, "--model", "stub",
                       "--retries", "0", "--timeout", "120", "--out", out]
        p.currentDirectoryURL = TestPaths.repoRoot
        p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(60)
        while stalling.requests.count < 4 && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        Thread.sleep(forTimeInterval: 0.2)
        p.terminate()
        p.waitUntilExit()
        #expect(stalling.requests.count == 4)
        #expect(!FileManager.default.fileExists(atPath: out))
        let kept = try RerankResumeCLITests.lines(partial)
        #expect(kept.count == 3)
        let h = try #require(FileHandle(forWritingAtPath: partial))
        try h.seekToEnd(); try h.write(contentsOf: Data("{\"user_id\": \"half".utf8)); try h.close()

        // Without --resume the checkpoint is not emptied: the command refuses, naming it, and asks nothing.
        let refused = try RerankResumeCLITests.server()
        defer { refused.stop() }
        let before = try Data(contentsOf: URL(fileURLWithPath: partial))
        let r0 = try RerankResumeCLITests.rerank(refused, out: out)
        #expect(r0.status != 0)
        #expect(CLI.errorLines(r0).count == 1 && r0.stderr.contains(partial) && r0.stderr.contains("--resume"), "\(r0.stderr)")
        #expect(refused.requests.isEmpty)
        #expect(try Data(contentsOf: URL(fileURLWithPath: partial)) == before)

        let healthy = try RerankResumeCLITests.server()
        defer { healthy.stop() }
        let r = try RerankResumeCLITests.rerank(healthy, out: out, extra: ["--resume"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(healthy.requests.count == 3)
        #expect(r.stderr.contains("resuming: 3 users kept from \(out) and its .partial, 3 to rerank"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: partial))

        let again = try RerankResumeCLITests.server()
        defer { again.stop() }
        #expect(try RerankResumeCLITests.rerank(again, out: fresh).status == 0)
        #expect(try RerankResumeCLITests.lines(out) == RerankResumeCLITests.lines(fresh))
        #expect(try Array(RerankResumeCLITests.lines(fresh).prefix(3)) == kept)
    }

    /// A server that cannot be reached stops the run at its first user: no output, no report, no checkpoint.
    @Test func anUnreachableServerLeavesNothing() throws {
        let dir = TestPaths.tempDir("rerank-unreachable")
        let out = dir + "/r.jsonl"
        let r = try CLI.run(["rerank", "--candidates", RerankResumeCLITests.candidates, "--server",
                             "http://127.0.0.1:\(try LocalHTTPServer.deadPort())", "--model", "stub", "--retries", "0", "--out", out])
        #expect(r.status != 0)
        #expect(CLI.errorLines(r).count == 1, "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }
}
