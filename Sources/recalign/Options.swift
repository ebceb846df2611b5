// Options: option groups shared by several commands (model folder, text length, encoding batch, precision, --shard).
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

/// `--shard i/n` of `encode` / `export` run without MPI (a Slurm array task, a Kubernetes Indexed Job pod): the
/// contiguous rows of `total` this part covers.
struct ShardPart {
    let index: Int, count: Int, total: Int
    let rows: Range<Int>

    /// "i/n" with 0 <= i < n.
    static func parse(_ s: String) throws -> (index: Int, count: Int) {
        let p = s.split(separator: "/", omittingEmptySubsequences: false)
        guard p.count == 2, let i = Int(p[0]), let n = Int(p[1]), n >= 1, i >= 0, i < n else {
            throw ValidationError("--shard must be i/n with 0 <= i < n, got '\(s)'")
        }
        return (i, n)
    }

    /// The part `option` names of `total` rows; nil without the option. Refused under mpirun (the ranks share
    /// the work already).
    init?(_ option: String?, total: Int) throws {
        guard let option else { return nil }
        if Cluster.isDistributed { throw ValidationError("--shard splits the work without MPI; under mpirun the ranks share it already") }
        (index, count) = try ShardPart.parse(option)
        self.total = total
        rows = Parallel.share(total, worker: index, of: count)
    }
}
