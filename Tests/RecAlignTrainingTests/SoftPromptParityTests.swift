// SoftPromptParityTests: the soft prompt's embeddings, MNRL loss and prompt gradient against PyTorch's (golden fixture).
import Foundation
import Testing
import RecAlignTraining
import RecAlignNN
import RecAlignModels
import RecAlignTensor
import RecAlignTestSupport

private let modelDir = TestPaths.modelDir
private let goldenPath = TestPaths.fixture("golden/soft_prompt.json")
private let hasModel = TestPaths.hasModel

/// `Scripts/make_prompt_golden.py`'s output: a 5-vector prompt on all-MiniLM-L6-v2 (eval mode), per pooling mode.
private struct PromptGolden: Decodable {
    struct Mode: Decodable { let users: [[Double]]; let items: [[Double]]; let loss: Double; let grad: [[Double]] }
    let users: [String]
    let items: [String]
    let prompt: [[Double]]
    let modes: [String: Mode]
}

@Suite("Soft prompt parity with PyTorch", .serialized, .enabled(if: hasModel))
struct SoftPromptParityTests {
    /// Mean pooling over the text's tokens ("text", the default) and over the virtual tokens too ("all"); the
    /// inference path (`encode`) and the training path (autograd, one graph and data-parallel) both match.
    @Test(arguments: ["text", "all"], [false, true])
    func promptMatchesPyTorch(_ mode: String, _ dataParallel: Bool) throws {
        let g = try JSONDecoder().decode(PromptGolden.self, from: Data(contentsOf: URL(fileURLWithPath: goldenPath)))
        let want = try #require(g.modes[mode])
        let enc = try SentenceEncoder(path: modelDir)
        var rng = SeededRNG(seed: 1)
        let tuned = try TunedEncoder(SoftPromptTuning(length: g.prompt.count, initText: nil, poolVirtualTokens: mode == "all"),
                                     encoder: enc, rng: &rng)
        tuned.train(false)
        let prompt = try #require((tuned.encoder.inputAdapter as? SoftPrompt)?.soft_prompt)
        let c = prompt.shape[1]
        for (i, row) in g.prompt.enumerated() { for (j, x) in row.enumerated() { prompt.data[i * c + j] = Float(x) } }

        func worst(_ got: [Float], _ want: [[Double]]) -> Double {
            zip(got, want.flatMap { $0 }).map { abs(Double($0) - $1) }.max()!
        }
        // Inference path.
        let u = tuned.encoder.encode(g.users), v = tuned.encoder.encode(g.items)
        #expect(worst(u.values, want.users) < 1e-5, "users: max |swift - torch| \(worst(u.values, want.users))")
        #expect(worst(v.values, want.items) < 1e-5, "items: max |swift - torch| \(worst(v.values, want.items))")

        // Training path: loss and d loss / d prompt.
        func batch(_ texts: [String]) -> TokenBatch { SentenceEncoder.pad(enc.tokenize(texts).ids, padID: enc.tokenizer.padID) }
        prompt.zeroGrad()
        var r = SeededRNG(seed: 2)
        let loss = try contrastiveGradients(tuned: tuned, parameters: [prompt], users: [batch(g.users)], items: [batch(g.items)],
                                            loss: MultipleNegativesRankingLoss(), rng: &r, dataParallel: dataParallel)
        #expect(abs(Double(loss) - want.loss) < 1e-4 * max(1, want.loss), "loss \(loss) vs \(want.loss)")
        let grad = try #require(prompt.grad?.array)
        let scale = want.grad.flatMap { $0 }.map(abs).max()!
        #expect(worst(grad, want.grad) < 1e-3 * scale, "grad: max |swift - torch| \(worst(grad, want.grad)), max |g| \(scale)")
    }
}
