// ChatCLITests: `recalign chat` driven through stdin, against a scripted server and, when one runs, the smoke LLM.
import Foundation
import Testing
import RecAlignTestSupport

@Suite(.serialized) struct ChatCLITests {
    static let tiny = TestPaths.corpusFixture("ml-tiny")

    /// "Title (year)" of every item of a RecBole `.item` file (the chat's list lines start with one).
    static func titles(_ itemFile: String) throws -> [String] {
        let lines = try String(contentsOfFile: itemFile, encoding: .utf8).split(separator: "\n").dropFirst()
        return lines.map { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            let name = f[1].split(separator: " ").joined(separator: " ")
            return f.count > 2 && !f[2].isEmpty ? "\(name) (\(f[2]))" : name
        }
    }

    /// The structure every conversation must keep: each list line names a catalog item, and after "no N" the
    /// rejected title is never listed again.
    static func checkStructure(_ out: String, titles: [String]) -> (lists: Int, rejected: String?) {
        var rejected: String? = nil
        var lists = 0
        for line in out.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("OK, I will not suggest "), line.hasSuffix(" again.") {
                rejected = String(line.dropFirst("OK, I will not suggest ".count).dropLast(" again.".count))
            }
            if line.hasSuffix(":") && line.contains(" candidates (") { lists += 1 }
            guard line.hasPrefix("  "), line.dropFirst(2).first?.isNumber == true, let dot = line.firstIndex(of: ".") else { continue }
            let rest = line[line.index(dot, offsetBy: 2)...]
            #expect(titles.contains { rest.hasPrefix($0) }, "not a catalog item: \(line)")
            if let r = rejected { #expect(!rest.hasPrefix(r), "rejected item listed again: \(line)") }
        }
        return (lists, rejected)
    }

    static let script = "something with a storm\nno 1\nwhy 2\nmore\nnot in the mood for horror\n"

    /// Reranks by reversing the candidates; explains with one line naming a film outside the catalog.
    @Test(.enabled(if: CLI.hasModel)) func aScriptedConversation() throws {
        let server = try LocalHTTPServer { _, req in
            let body = (try? JSONSerialization.jsonObject(with: Data(req.body.utf8))) as? [String: Any] ?? [:]
            if body["stream"] as? Bool == true {
                return .respond(status: 200, body: "data: {\"choices\":[{\"delta\":{\"content\":\"1. As good as \\\"The Godfather\\\".\\n2. Like The Mirror (1976), which you watched.\\n\"}}]}\n\ndata: [DONE]\n\n", delay: 0)
            }
            let schema = ((body["response_format"] as? [String: Any])?["json_schema"] as? [String: Any])?["schema"] as? [String: Any]
            let ids = ((schema?["items"] as? [String: Any])?["enum"] as? [String]) ?? []
            let n = schema?["minItems"] as? Int ?? 1
            let answer = "[" + ids.reversed().prefix(n).map { "\"\($0)\"" }.joined(separator: ",") + "]"
            return .respond(status: 200, body: LocalHTTPServer.chatBody(answer), delay: 0)
        }
        defer { server.stop() }
        let r = try CLI.run(["chat", "--corpus", ChatCLITests.tiny, "--model", CLI.model, "--user", "3", "--candidates", "6",
                             "--server", server.url.absoluteString, "--llm-model", "stub"], stdin: ChatCLITests.script)
        #expect(r.status == 0, "\(r.stderr)")
        let out = r.stdout
        let (lists, rejected) = ChatCLITests.checkStructure(out, titles: try ChatCLITests.titles(ChatCLITests.tiny + "/ml-tiny.item"))
        // The opening list, the request, after the reject, more, the horror-free request.
        #expect(lists == 5, "\(out)")
        #expect(rejected != nil)
        #expect(out.components(separatedBy: " candidates (LLM order):").count - 1 == 5)
        // The reasons: the line naming a film outside the catalog is withheld, the grounded one shown.
        #expect(out.contains("    (a line naming \"The Godfather\", which is not in the catalog, was left out)"))
        #expect(out.contains("    2. Like The Mirror (1976), which you watched."))
        #expect(!out.contains("As good as"))
        #expect(out.contains("Why ") && out.hasSuffix("bye\n"))
        // Every prompt is within the default budget; the dialogue is carried (the request reaches later prompts).
        let bodies = server.requests.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.body.utf8))) as? [String: Any] }
        #expect(bodies.count == 11)  // 5 reranks, 5 list explanations, 1 why
        let last = try #require(bodies.last?["messages"] as? [[String: String]])
        #expect(last.contains { $0["content"] == "something with a storm" })
        // "not in the mood for horror": no horror film is listed after it.
        let tail = out.components(separatedBy: "you> not in the mood for horror").last ?? ""
        #expect(!tail.contains("Horror"))
    }

    /// Against the smoke model (Scripts/llm_server.sh start; CI sets RECALIGN_LLM_URL): a real conversation of
    /// five turns on ml-100k keeps the structure whatever the small model says.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["RECALIGN_LLM_URL"] != nil && CLI.hasModel && TestPaths.hasML100K))
    func aConversationWithTheSmokeModel() throws {
        let url = ProcessInfo.processInfo.environment["RECALIGN_LLM_URL"]!
        let r = try CLI.run(["chat", "--user", "1", "--server", url, "--llm-model", "SmolLM2-135M-Instruct", "--timeout", "180",
                             "--explanation-tokens", "80"],
                            stdin: "something funny with animals\nno 1\nwhy 2\nmore\nlike Heat, but lighter\n")
        #expect(r.status == 0, "\(r.stderr)")
        let (lists, rejected) = ChatCLITests.checkStructure(r.stdout, titles: try ChatCLITests.titles(TestPaths.ml100k + "/ml-100k.item"))
        #expect(lists == 5, "\(r.stdout)")
        #expect(rejected != nil)
        #expect(r.stdout.hasSuffix("bye\n"))
    }

    @Test func refusals() throws {
        let a = try CLI.run(["chat", "--corpus", ChatCLITests.tiny, "--user", "3", "--liked", "The Mirror"], stdin: "")
        #expect(a.status != 0 && a.stderr.contains("exactly one of --user"))
        let b = try CLI.run(["chat", "--corpus", ChatCLITests.tiny, "--liked", "The Mirror", "--server", "http://127.0.0.1:1"], stdin: "")
        #expect(b.status != 0 && b.stderr.contains("--llm-model"))
        let c = try CLI.run(["chat", "--corpus", ChatCLITests.tiny, "--user", "3", "--show", "5", "--candidates", "4"], stdin: "")
        #expect(c.status != 0 && c.stderr.contains("--show (5) must not exceed --candidates (4)"))
    }

    @Test(.enabled(if: CLI.hasModel)) func likedTitlesWithoutAServer() throws {
        let r = try CLI.run(["chat", "--corpus", ChatCLITests.tiny, "--model", CLI.model, "--liked", "The Mirror; The Ember Storm"],
                            stdin: "why 1\nno 1\nquit\n")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("your liked titles: 2 items"))
        #expect(r.stdout.contains("I can only explain with an LLM"))
        let (lists, rejected) = ChatCLITests.checkStructure(r.stdout, titles: try ChatCLITests.titles(ChatCLITests.tiny + "/ml-tiny.item"))
        #expect(lists == 2 && rejected != nil)
        let u = try CLI.run(["chat", "--corpus", ChatCLITests.tiny, "--model", CLI.model, "--liked", "Citizen Kane"], stdin: "")
        #expect(u.status != 0 && u.stderr.contains("no title in") && u.stderr.contains("Citizen Kane"))
    }
}
