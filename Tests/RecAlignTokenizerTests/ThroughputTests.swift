// Release-mode throughput check (opt-in: RECALIGN_TOKENIZER_BENCH=1 swift test -c release --filter Throughput).

import Foundation
import Testing
import RecAlignTokenizer

@Suite struct ThroughputTests {
    static let enabled = ProcessInfo.processInfo.environment["RECALIGN_TOKENIZER_BENCH"] == "1"

    @Test(.enabled(if: ThroughputTests.enabled)) func hundredThousandShortTexts() throws {
        let tok = try Fixtures.jsonTokenizer()
        let genres = ["Action|Crime|Thriller", "Animation|Children's|Comedy", "Drama|Romance", "Sci-Fi|War"]
        let titles = ["Toy Story", "Heat", "Amélie (Fabuleux destin d'Amélie Poulain, Le)", "Se7en",
                      "Crouching Tiger, Hidden Dragon", "Léon: The Professional", "City of Lost Children, The"]
        let texts = (0..<100_000).map { i in
            "Title: \(titles[i % titles.count]) (\(1950 + i % 70)). Genres: \(genres[i % genres.count])."
        }
        var clock = ContinuousClock.now
        var total = 0
        for t in texts { total += tok.countTokens(t) }
        let countSeconds = (ContinuousClock.now - clock) / .seconds(1)
        clock = ContinuousClock.now
        var batched = 0
        for start in stride(from: 0, to: texts.count, by: 256) {
            batched += tok.encodeBatch(Array(texts[start..<min(start + 256, texts.count)]), maxLength: 128).inputIDs.count
        }
        let batchSeconds = (ContinuousClock.now - clock) / .seconds(1)
        print("countTokens: \(texts.count) texts, \(total) tokens in \(countSeconds) s = \(Int(Double(texts.count) / countSeconds)) texts/s")
        print("encodeBatch(256, 128): \(texts.count) texts in \(batchSeconds) s = \(Int(Double(texts.count) / batchSeconds)) texts/s")
        // Spot-check correctness of the benchmarked path against the per-text encoder.
        #expect(tok.countTokens(texts[2]) + 2 == tok.encode(texts[2], maxLength: nil).ids.count)
        #expect(batched >= total)
        #expect(countSeconds < 3.0)
    }
}
