// PointwiseTests: Yes/No log-odds, the logprob request against a stub server, pointwise order, rank fusion.
import Foundation
import Testing
@testable import RecAlignRerank
import RecAlignMetrics
import RecAlignTestSupport

/// A logprob body as llama.cpp's OpenAI endpoint returns it: the first token and its top alternatives.
func logprobBody(_ top: [(String, Double)]) -> String {
    let alts = top.map { #"{"token":"\#($0.0)","logprob":\#($0.1),"bytes":[]}"# }.joined(separator: ",")
    return #"{"choices":[{"index":0,"message":{"role":"assistant","content":"\#(top[0].0)"},"logprobs":{"content":[{"token":"\#(top[0].0)","logprob":\#(top[0].1),"top_logprobs":[\#(alts)]}]}}]}"#
}

@Suite struct YesNoScoreTests {
    func t(_ s: String, _ l: Double) -> TokenLogProb { TokenLogProb(token: s, logprob: l) }

    @Test func logOddsSumsTheSpellingsOfEachSide() throws {
        // P(yes) = 0.3 + 0.1 (" yes"), P(no) = 0.5 ("No.") → log(0.4 / 0.5).
        let s = try #require(YesNoScore.score([t("No.", log(0.5)), t("Yes", log(0.3)), t(" yes", log(0.1)), t("Maybe", log(0.05))]))
        #expect(abs(s - log(0.4 / 0.5)) < 1e-12)
    }

    @Test func anAbsentSideIsBoundedByTheLeastLikelyListedToken() throws {
        // No "Yes" among the top: P(yes) <= 0.02, the smallest listed.
        let s = try #require(YesNoScore.score([t("No", log(0.9)), t("The", log(0.05)), t("I", log(0.02))]))
        #expect(abs(s - (log(0.02) - log(0.9))) < 1e-12)
        let weaker = try #require(YesNoScore.score([t("No", log(0.6)), t("The", log(0.05)), t("I", log(0.02))]))
        #expect(weaker > s)
        #expect(YesNoScore.score([t("Sure", -0.1), t("Maybe", -2)]) == nil)
        #expect(YesNoScore.score([]) == nil)
    }

    @Test func stableOrderUnscoredLast() {
        let o = PointwiseScorer.order(["a", "b", "c", "d", "e"], scores: ["a": -1, "b": 2, "d": 2, "e": 0.5])
        #expect(o == ["b", "d", "e", "a", "c"])
    }
}

@Suite struct PointwiseClientTests {
    static func record(_ n: Int = 4) -> CandidateRecord {
        CandidateRecord(userId: "7", history: [CandidateItem(itemId: "h1", text: "Heat (1995)"), CandidateItem(itemId: "h2", text: "Alien (1979)")],
                        candidates: (1...n).map { CandidateItem(itemId: "c\($0)", text: "Movie \($0)") }, target: "c3")
    }

    @Test func requestShapeAndOrderFromTheServersLogprobs() async throws {
        // P(Yes) per candidate text: Movie 1 0.2, Movie 2 0.4, Movie 3 0.9, Movie 4: neither Yes nor No listed.
        let pYes: [String: Double] = ["Movie 1": 0.2, "Movie 2": 0.4, "Movie 3": 0.9]
        let server = try LocalHTTPServer { _, req in
            let m = (try? JSONSerialization.jsonObject(with: Data(req.body.utf8))) as? [String: Any]
            let content = ((m?["messages"] as? [[String: String]])?.last?["content"]) ?? ""
            let movie = content.components(separatedBy: "Movie: ").last ?? ""
            guard let p = pYes[movie] else { return .respond(status: 200, body: logprobBody([("I", -0.1), ("The", -3)]), delay: 0) }
            return .respond(status: 200, body: logprobBody([(p > 0.5 ? "Yes" : "No", log(max(p, 1 - p))), (p > 0.5 ? "No" : "Yes", log(min(p, 1 - p)))]), delay: 0)
        }
        defer { server.stop() }
        var c = ChatClientConfig(baseURL: server.url, model: "m"); c.backoff = 0.01
        let scorer = PointwiseScorer(client: ChatClient(config: c), topK: 4, historyLength: 1, topLogprobs: 5)
        let out = await scorer.rerank(Self.record(5))
        #expect(out.order == ["c3", "c2", "c1", "c4", "c5"])  // c4 unscored after the scored; c5 not shown
        #expect(out.status == .partial && out.recognized == 3 && out.attempts == 4)
        #expect(abs(out.scores!["c3"]! - log(0.9 / 0.1)) < 1e-9)
        #expect(server.requests.count == 4)
        let body = try #require((try? JSONSerialization.jsonObject(with: Data(server.requests[0].body.utf8))) as? [String: Any])
        #expect(body["logprobs"] as? Bool == true && body["top_logprobs"] as? Int == 5 && body["max_tokens"] as? Int == 1)
        #expect(body["response_format"] == nil && body["grammar"] == nil)
        // The prompt shows the last history item only, and ends with the candidate (the cached prefix is shared).
        let user = try #require((body["messages"] as? [[String: String]])?.last?["content"])
        #expect(user.contains("Alien (1979)") && !user.contains("Heat (1995)") && user.hasSuffix("Movie: Movie 1"))
    }

    @Test func aFailedRequestLeavesTheUserInRetrieverOrder() async throws {
        let server = try LocalHTTPServer { i, _ in
            i == 0 ? .respond(status: 200, body: logprobBody([("Yes", -0.1), ("No", -2.4)]), delay: 0) : .respond(status: 500, body: "down", delay: 0)
        }
        defer { server.stop() }
        var c = ChatClientConfig(baseURL: server.url, model: "m"); c.backoff = 0.01; c.retries = 1
        let out = await PointwiseScorer(client: ChatClient(config: c), topK: 4).rerank(Self.record())
        #expect(out.status == .transportFailure && out.order == ["c1", "c2", "c3", "c4"])
        #expect(out.error?.contains("HTTP 500") == true)
    }

    @Test func aBodyWithoutLogprobsIsABadResponse() throws {
        #expect(throws: ChatClientError.self) { try ChatClient.firstTokenLogProbs(of: Data(LocalHTTPServer.chatBody("Yes").utf8)) }
        let top = try ChatClient.firstTokenLogProbs(of: Data(logprobBody([("No", -0.5), ("Yes", -1.0)]).utf8))
        #expect(top == [TokenLogProb(token: "No", logprob: -0.5), TokenLogProb(token: "Yes", logprob: -1.0)])
    }
}

@Suite struct RankFusionTests {
    @Test func weightsZeroAndOneGiveEachOrderAndHalfMixes() {
        let ret = ["a", "b", "c", "d"], llm = ["d", "c", "b", "a"]
        #expect(RankFusion.fuse(retriever: ret, llm: llm, weight: 0) == ret)
        #expect(RankFusion.fuse(retriever: ret, llm: llm, weight: 1) == llm)
        // w = 0.5: a and d tie (1/61 + 1/64), as do b and c; ties keep retriever order.
        #expect(RankFusion.fuse(retriever: ret, llm: llm, weight: 0.5) == ["a", "d", "b", "c"])
        // w = 0.6: d = 0.6/61 + 0.4/64 = 0.016086 > c = 0.6/62 + 0.4/63 = 0.016026 > b = 0.6/63 + 0.4/62
        // = 0.015975 > a = 0.6/64 + 0.4/61 = 0.015932: past 0.5 the LLM's order wins whole on a full reversal.
        #expect(RankFusion.fuse(retriever: ret, llm: llm, weight: 0.6) == ["d", "c", "b", "a"])
        // w = 0.4 mirrors it: the retriever's order.
        #expect(RankFusion.fuse(retriever: ret, llm: llm, weight: 0.4) == ret)
    }

    @Test func weightChosenOnValidationPrefersTheBetterOrderThenTheRetriever() {
        func rec(_ target: String) -> CandidateRecord {
            CandidateRecord(userId: target, history: [], candidates: ["a", "b", "c"].map { CandidateItem(itemId: $0, text: $0) }, target: target)
        }
        // The LLM puts the target first where the retriever has it last. c leads the first list for w > 0.5
        // (w/61 + (1-w)/63 > w/63 + (1-w)/61) and the second for w > 0.663 (against a = w/62 + (1-w)/61):
        // 0.7 is the smallest weight of the grid with both targets first.
        #expect(RankFusion.chooseWeight(records: [rec("c"), rec("c")], llmOrders: [["c", "b", "a"], ["c", "a", "b"]]) == 0.7)
        // The LLM is always wrong: weight 0 (all weights below 0.5 tie; the smallest is kept).
        #expect(RankFusion.chooseWeight(records: [rec("a"), rec("a")], llmOrders: [["c", "b", "a"], ["b", "c", "a"]]) == 0)
    }

    @Test func comparisonHasTheFusedRowAndIntervals() {
        let recs = (0..<3).map { i in
            CandidateRecord(userId: "\(i)", history: [], candidates: ["a", "b", "c"].map { CandidateItem(itemId: $0, text: $0) }, target: "c")
        }
        let outs = recs.map { RerankOutcome(userId: $0.userId, order: ["c", "b", "a"], status: .ok, recognized: 3, answer: nil, error: nil, seconds: 0, attempts: 1) }
        let cmp = RerankComparison(records: recs, outcomes: outs, fusionWeight: 0.6)
        #expect(cmp.retriever == MetricSummary(ranks: [3, 3, 3]) && cmp.reranked == MetricSummary(ranks: [1, 1, 1]))
        #expect(cmp.fused == MetricSummary(ranks: [1, 1, 1]))
        // Every user gains 1 - 1/log2(4) = 0.5 NDCG@10; every resample gives the same difference.
        #expect(abs(cmp.rerankedDelta!.ndcg10.observed - 0.5) < 1e-12 && abs(cmp.rerankedDelta!.ndcg10.low - 0.5) < 1e-12)
        // The written record lists the fused order and keeps the LLM's; reading it back recovers both.
        let line = RerankedRecord(record: recs[0], outcome: outs[0], fusionWeight: 0.6)
        #expect(line.record.candidates.map(\.itemId) == ["c", "b", "a"] && line.rerank.llmOrder == ["c", "b", "a"])
        let (r, llm) = line.retrieverRecordAndLLMOrder
        #expect(r.candidates.map(\.itemId) == ["a", "b", "c"] && llm == ["c", "b", "a"])
    }
}
