// GenerateCLITests: `recalign generate` (rating and explain) against a scripted LLM server, and its refusals.
import Foundation
import Testing
import RecAlignFormats
import RecAlignTestSupport

@Suite(.serialized) struct GenerateCLITests {
    static let tiny = TestPaths.corpusFixture("ml-tiny")

    static func jsonLines(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    /// Few-shot rating over 6 users; every third answer has no rating on the scale and falls back to the user mean.
    @Test func ratingAgainstAStubServer() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try LocalHTTPServer { i, _ in
            .respond(status: 200, body: LocalHTTPServer.chatBody(i % 3 == 1 ? "I can't tell." : "Rating: 4 stars"), delay: 0)
        }
        defer { server.stop() }
        let out = dir + "/rating.jsonl"
        let r = try CLI.run(["generate", "--task", "rating", "--corpus", GenerateCLITests.tiny, "--server", server.url.absoluteString,
                             "--model", "stub", "--limit", "6", "--shots", "2", "--history", "2", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = try GenerateCLITests.jsonLines(out)
        #expect(lines.count == 6)
        #expect(lines.map { $0["status"] as? String } == ["ok", "parse_failure", "ok", "ok", "parse_failure", "ok"])
        for l in lines {
            let baselines = try #require(l["baselines"] as? [String: Double])
            #expect(Set(baselines.keys) == ["global mean", "user mean", "MF"])
            let predicted = try #require(l["predicted"] as? Double)
            #expect(predicted == (l["status"] as? String == "ok" ? 4 : baselines["user mean"]!))
            #expect((1...5).contains(try #require(l["rating"] as? Double)))
        }
        // Few-shot: system, 2 demonstration pairs, the question; a short free-text request.
        let body = try #require(try JSONSerialization.jsonObject(with: Data(server.requests[0].body.utf8)) as? [String: Any])
        #expect((body["messages"] as? [[String: String]])?.map { $0["role"]! } == ["system", "user", "assistant", "user", "assistant", "user"])
        #expect(body["max_tokens"] as? Int == 32 && body["model"] as? String == "stub")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + ".summary.json"))) as? [String: Any])
        let report = try #require(summary["report"] as? [String: Any])
        #expect(report["parsed"] as? Int == 4 && report["parse_failures"] as? Int == 2 && report["interactions"] as? Int == 6)
        let rows = try #require(report["rows"] as? [[String: Any]])
        #expect(rows.map { $0["method"] as? String } == ["global mean", "user mean", "MF", "LLM 2-shot (unusable answers -> user mean)",
                                                         "LLM 2-shot, parsed answers only", "user mean on those interactions"])
        #expect(rows.prefix(4).allSatisfy { ($0["errors"] as? [String: Any])?["count"] as? Int == 6 })
        #expect(try String(contentsOfFile: out + ".report.txt", encoding: .utf8).contains("| MF | 6 |"))
        #expect(r.stdout.contains("parsed: 4, unparseable: 2, failed requests: 0"))
    }

    /// Two users' top candidate: one answer grounded in a history title, one naming a film not in the catalog.
    @Test func explainAgainstAStubServer() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func item(_ id: String) -> String { #"{"item_id": "\#(id)", "text": "t"}"# }
        try """
        {"user_id": "3", "history": [\(item("3")), \(item("10"))], "candidates": [\(item("1")), \(item("2"))]}
        {"user_id": "4", "history": [\(item("4"))], "candidates": [\(item("5"))]}
        """.write(toFile: dir + "/cands.jsonl", atomically: true, encoding: .utf8)
        let server = try LocalHTTPServer { _, req in
            // The prompt lists the history titles; answer by which user it is.
            req.body.contains("The Mirror (1976)")
                ? .respond(status: 200, body: LocalHTTPServer.chatBody("Since you watched \"The Mirror\", you will like it."), delay: 0)
                : .respond(status: 200, body: LocalHTTPServer.chatBody("You will love Inception (2010)."), delay: 0)
        }
        defer { server.stop() }
        let out = dir + "/explain.jsonl"
        let r = try CLI.run(["generate", "--task", "explain", "--corpus", GenerateCLITests.tiny, "--candidates", dir + "/cands.jsonl",
                             "--server", server.url.absoluteString, "--model", "stub", "--concurrency", "2", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = try GenerateCLITests.jsonLines(out)
        #expect(lines.map { $0["item_id"] as? String } == ["1", "5"])
        #expect(lines.map { $0["grounded"] as? Bool } == [true, false])
        #expect(lines.map { $0["hallucinated"] as? Bool } == [false, true])
        #expect((lines[1]["findings"] as? [String: Any])?["hallucinated"] as? [String] == ["Inception"])
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + ".summary.json"))) as? [String: Any])
        #expect(summary["answered"] as? Int == 2 && summary["grounded"] as? Int == 1 && summary["hallucinated"] as? Int == 1)
        #expect(r.stdout.contains("| hallucinated (a title-like mention not in the catalog) | 1 | 0.500 |"))
    }

    @Test func optionsAreValidated() throws {
        for (args, message) in [
            (["--task", "explain"], "--task explain needs --candidates"),
            (["--task", "rating", "--top", "2"], "--top is for --task explain"),
            (["--task", "rating", "--candidates", "x.jsonl"], "--candidates is for --task explain"),
            (["--task", "rating", "--shots=-1"], "--shots must be at least 0"),
            (["--task", "rating", "--concurrency", "0"], "--concurrency must be at least 1"),
            (["--task", "rating", "--limit", "0"], "--limit must be at least 1"),
            (["--task", "rating", "--timeout", "0"], "--timeout must be a positive number"),
            (["--task", "rating", "--extra-body", "[1]"], "--extra-body must be a JSON object"),
            (["--task", "explain", "--candidates", "/nonexistent.jsonl"], "--candidates /nonexistent.jsonl: no such file"),
        ] {
            let r = try CLI.run(["generate", "--corpus", GenerateCLITests.tiny] + args + ["--dry-run", "--out", "/tmp/never.jsonl"])
            #expect(r.status == 64, "\(args)")
            #expect(r.stderr.contains(message), "\(args): \(r.stderr)")
        }
        let noServer = try CLI.run(["generate", "--corpus", GenerateCLITests.tiny, "--task", "rating", "--out", "/tmp/never.jsonl"])
        #expect(noServer.status == 64 && noServer.stderr.contains("--server URL is required"))
    }

    /// A corpus whose rating is not a number: one error line naming the file and line; a dead server: nothing written.
    @Test func badRatingsAndADeadServerWriteNothing() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let corpus = dir + "/c"
        try FileManager.default.createDirectory(atPath: corpus, withIntermediateDirectories: true)
        var inter = try String(contentsOfFile: GenerateCLITests.tiny + "/ml-tiny.inter", encoding: .utf8).split(separator: "\n").map(String.init)
        var f = inter[3].split(separator: "\t").map(String.init)
        f[2] = "4 stars"
        inter[3] = f.joined(separator: "\t")
        try (inter.joined(separator: "\n") + "\n").write(toFile: corpus + "/c.inter", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: GenerateCLITests.tiny + "/ml-tiny.item", toPath: corpus + "/c.item")
        let out = dir + "/r.jsonl"
        let bad = try CLI.run(["generate", "--task", "rating", "--corpus", corpus, "--dry-run", "--out", out])
        #expect(bad.status == 1)
        #expect(CLI.errorLines(bad).count == 1)
        #expect(bad.stderr.contains("\(corpus)/c.inter:4: rating '4 stars' is not a number"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))

        let dead = "http://127.0.0.1:\(try LocalHTTPServer.deadPort())"
        let r = try CLI.run(["generate", "--task", "rating", "--corpus", GenerateCLITests.tiny, "--server", dead, "--model", "m",
                             "--retries", "0", "--limit", "3", "--out", out])
        #expect(r.status == 1)
        #expect(CLI.errorLines(r).first?.contains("did not answer the first request") == true, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out) && !FileManager.default.fileExists(atPath: out + ".report.txt"))
    }
}
