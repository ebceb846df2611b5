// Options: option groups shared by several commands (model folder, encoding batch).
import ArgumentParser
import Foundation

/// Refuses a count option below `minimum` (a negative count was silently taken as 0 before).
func requireCount(_ value: Int, atLeast minimum: Int, _ flag: String) throws {
    if value < minimum { throw ValidationError("\(flag) must be at least \(minimum), got \(value)") }
}

/// Where the encoder comes from and how texts are cut.
struct ModelOptions: ParsableArguments {
    @Option(help: "HF / sentence-transformers model folder.")
    var model: String = "checkpoints/all-MiniLM-L6-v2"

    @Option(help: "Max tokens per text incl. [CLS]/[SEP] (default: the folder's sentence_bert_config.json).")
    var maxLength: Int?

    @Option(help: "Texts per encoder batch.")
    var batchSize: Int = 32

    func validate() throws {
        guard FileManager.default.fileExists(atPath: model) else {
            throw ValidationError("model folder '\(model)' does not exist (run checkpoints/fetch_model.sh for the default model)")
        }
        if let m = maxLength, m < 2 { throw ValidationError("--max-length must be at least 2") }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
    }
}
