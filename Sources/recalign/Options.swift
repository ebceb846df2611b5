// Options: option groups shared by several commands (model folder, text length, encoding batch, precision).
import ArgumentParser
import Foundation
import RecAlignModels
import RecAlignTensor

/// Refuses a count option below `minimum` (a negative count was silently taken as 0 before).
func requireCount(_ value: Int, atLeast minimum: Int, _ flag: String) throws {
    if value < minimum { throw ValidationError("\(flag) must be at least \(minimum), got \(value)") }
}

extension Precision: ExpressibleByArgument {}

/// Where the encoder comes from, how texts are cut, and the number format it runs in.
struct ModelOptions: ParsableArguments {
    @Option(help: "HF / sentence-transformers model folder.")
    var model: String = "checkpoints/all-MiniLM-L6-v2"

    @Option(help: "Max tokens per text incl. [CLS]/[SEP] (default: the folder's sentence_bert_config.json).")
    var maxLength: Int?

    @Option(help: "Texts per encoder batch.")
    var batchSize: Int = 32

    @Option(help: "Projection precision: fp32 (default, the parity path), int8 or bf16 (oneDNN, chosen per CPU; fp32 where the CPU lacks it).")
    var precision: Precision = .fp32

    /// `encoder` set to run at --precision (as this CPU allows); says once which kernel runs when not fp32.
    func prepared(_ encoder: SentenceEncoder) -> SentenceEncoder {
        encoder.precision = ModelOptions.plan(precision)
        return encoder
    }

    /// `Precision.plan`, noted on stderr the first time a precision other than fp32 is asked for.
    static func plan(_ requested: Precision) -> Precision {
        let p = Precision.plan(requested)
        if requested != .fp32 && !noted { note("precision \(p.description)"); noted = true }
        return p.precision
    }
    nonisolated(unsafe) private static var noted = false

    func validate() throws {
        guard FileManager.default.fileExists(atPath: model) else {
            throw ValidationError("model folder '\(model)' does not exist (run checkpoints/fetch_model.sh for the default model)")
        }
        if let m = maxLength, m < 2 { throw ValidationError("--max-length must be at least 2") }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
    }
}
