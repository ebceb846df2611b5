// LowPrecisionEncodeTests: golden sentences encoded at int8 and bf16 against the float32 reference embeddings.
import Foundation
import Testing
import RecAlignModels
import RecAlignTensor

@Suite("Reduced-precision encoding")
struct LowPrecisionEncodeTests {
    /// (min, mean) cosine of the golden texts at `precision` to sentence-transformers' float32 embeddings.
    func cosines(_ precision: Precision) throws -> (min: Float, mean: Float) {
        let texts = try JSONDecoder().decode([String].self, from: Data(contentsOf: Fixtures.golden.appendingPathComponent("texts.json")))
        let ref = try Fixtures.npy("embeddings.npy").floats!
        let enc = try SentenceEncoder(path: Fixtures.modelDir.path)
        enc.precision = precision
        let got = enc.encode(texts, batchSize: 8)
        let d = got.dim
        let cos = (0..<got.rows).map { r -> Float in
            var dot: Float = 0, a: Float = 0, b: Float = 0
            for i in 0..<d { let x = got.values[r * d + i], y = ref[r * d + i]; dot += x * y; a += x * x; b += y * y }
            return dot / (a * b).squareRoot()
        }
        return (cos.min()!, cos.reduce(0, +) / Float(cos.count))
    }

    /// bf16 keeps every golden sentence at cosine >= 0.9999 (measured 0.99997 on AVX-512 BF16).
    @Test func bf16KeepsEveryGoldenSentence() throws {
        guard Fixtures.hasModel, Precision.plan(.bf16).precision == .bf16 else { return }
        let c = try cosines(.bf16)
        #expect(c.min >= 0.9999, "bf16: min cosine \(c.min)")
    }

    /// int8 (dynamic, per-row activations, per-channel weights): the floor is the two-token inputs ("" and
    /// "   "): measured 0.9935 (mean 0.9984) with VNNI, 0.9897 (mean 0.9966) with oneDNN capped at AVX2, whose
    /// weights keep 7 bits. ONNX Runtime's quantize_dynamic (per channel) reaches 0.971 on the same sentences.
    @Test func int8StaysCloseOnGoldenSentences() throws {
        let plan = Precision.plan(.int8)
        guard Fixtures.hasModel, plan.precision == .int8 else { return }
        let sevenBit = plan.description.contains("7-bit")
        let c = try cosines(.int8)
        #expect(c.min >= (sevenBit ? 0.985 : 0.992), "int8: min cosine \(c.min)")
        #expect(c.mean >= (sevenBit ? 0.995 : 0.998), "int8: mean cosine \(c.mean)")
    }
}
