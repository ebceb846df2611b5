// TrainingState: everything a stopped run needs to continue the same run (weights, AdamW moments, RNG, data position).
import Foundation
import RecAlignNN
import RecAlignFormats
import RecAlignModels
import RecAlignRetrieval
import RecAlignMetrics

/// The resumable state of a run, saved as `state.safetensors` (trainable weights `param.<name>`, AdamW
/// moments `m.<name>` / `v.<name>`, mined hard negatives) and `state.json` (counters, RNG words, best metric).
public struct TrainingState: Equatable {
    /// Optimizer steps taken.
    public var step: Int
    /// Epoch of the next batch and its index inside the epoch.
    public var epoch: Int
    public var batchInEpoch: Int
    /// Dropout RNG words (SeededRNG).
    public var rngWords: [UInt64]
    /// Best validation so far and its step.
    public var best: MetricSummary?
    public var bestStep: Int
    /// Validations in a row without improvement (early stopping).
    public var badValidations: Int
    /// Method name the state belongs to (checked on resume).
    public var method: String

    public static let weightsFile = "state.safetensors"
    public static let jsonFile = "state.json"

    /// Writes the state of `tuned` / `optimizer` into `dir` (each file atomically).
    public func save(to dir: String, tuned: TunedEncoder, optimizer: AdamW, hardNegatives: [Int32]?) throws {
        var w = SafeTensorsWriter(metadata: ["format": "pt", "recalign": "training-state"])
        for (i, p) in optimizer.params.enumerated() {
            try w.add("param." + p.name, shape: p.tensor.shape, buffer: UnsafeBufferPointer(p.tensor.buffer))
            try w.add("m." + p.name, shape: p.tensor.shape, buffer: UnsafeBufferPointer(optimizer.m[i].buffer))
            try w.add("v." + p.name, shape: p.tensor.shape, buffer: UnsafeBufferPointer(optimizer.v[i].buffer))
        }
        if let hardNegatives { try w.add("hard_negatives", shape: [hardNegatives.count], int64s: hardNegatives.map(Int64.init)) }
        try w.write(to: (dir as NSString).appendingPathComponent(TrainingState.weightsFile))
        var obj: [String: Any] = ["step": step, "epoch": epoch, "batch_in_epoch": batchInEpoch,
                                  "rng": rngWords.map { String($0) }, "best_step": bestStep,
                                  "bad_validations": badValidations, "method": method, "adam_step": optimizer.t]
        if let best { obj["best"] = try JSONSerialization.jsonObject(with: JSONEncoder().encode(best)) }
        let data = try JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(data, to: (dir as NSString).appendingPathComponent(TrainingState.jsonFile))
    }

    /// Reads `dir`, copies the trainable weights into `optimizer`'s parameters and restores its moments.
    /// Returns the state and the saved hard negatives (if any). Throws, before any weight is touched, when the
    /// state is of another method than `method`, lacks a tensor of the right size, or holds a NaN / infinity.
    /// `hardNegatives`: the run's pair and item counts, which a saved hard-negative list must fit (item rows index
    /// the item texts).
    public static func load(from dir: String, optimizer: AdamW, method: String,
                            hardNegatives: (pairs: Int, items: Int)? = nil) throws -> (TrainingState, [Int32]?) {
        let jsonPath = (dir as NSString).appendingPathComponent(jsonFile)
        guard let data = FileManager.default.contents(atPath: jsonPath),
              let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw TrainingError.file(jsonPath, "cannot read the training state (missing or not a JSON object)")
        }
        func int(_ k: String) throws -> Int {
            guard let v = obj[k] as? Int else { throw TrainingError.file(jsonPath, "field '\(k)' is missing or not an integer") }
            return v
        }
        guard let rngStrings = obj["rng"] as? [String], rngStrings.count == 4 else {
            throw TrainingError.file(jsonPath, "field 'rng' must hold 4 words")
        }
        let words = try rngStrings.map { s -> UInt64 in
            guard let w = UInt64(s) else { throw TrainingError.file(jsonPath, "rng word '\(s)' is not an unsigned integer") }
            return w
        }
        var best: MetricSummary? = nil
        if let b = obj["best"] {
            best = try JSONDecoder().decode(MetricSummary.self, from: JSONSerialization.data(withJSONObject: b))
        }
        let state = TrainingState(step: try int("step"), epoch: try int("epoch"), batchInEpoch: try int("batch_in_epoch"),
                                  rngWords: words, best: best, bestStep: try int("best_step"),
                                  badValidations: try int("bad_validations"), method: (obj["method"] as? String) ?? "")
        guard state.method == method else {
            throw TrainingError.file(jsonPath, "the state is of method '\(state.method)', this run is '\(method)'")
        }
        let file = try SafeTensorsFile(path: (dir as NSString).appendingPathComponent(weightsFile))
        for p in optimizer.params {
            for prefix in ["param.", "m.", "v."] {
                guard let info = file.info(prefix + p.name), info.shape.reduce(1, *) == p.tensor.count else {
                    throw TrainingError.file(file.path, "tensor '\(prefix + p.name)' is missing or has the wrong size for \(p.tensor.shape)")
                }
            }
        }
        // Every tensor fits; each is read (and checked finite) before the first weight is overwritten.
        var ps: [[Float]] = [], ms: [[Float]] = [], vs: [[Float]] = []
        for p in optimizer.params {
            ps.append(try file.floats("param." + p.name))
            ms.append(try file.floats("m." + p.name)); vs.append(try file.floats("v." + p.name))
        }
        for (p, values) in zip(optimizer.params, ps) { _ = p.tensor.buffer.update(fromContentsOf: values) }
        optimizer.load(step: try int("adam_step"), m: ms, v: vs)
        var hard: [Int32]? = nil
        if file.contains("hard_negatives") {
            let rows = try file.int64s("hard_negatives")
            if let pairs = hardNegatives?.pairs, rows.count != pairs {
                throw TrainingError.file(file.path, "tensor 'hard_negatives' has \(rows.count) rows, this run has \(pairs) pairs")
            }
            let items = hardNegatives?.items ?? Int(Int32.max)
            if let bad = rows.firstIndex(where: { $0 < 0 || $0 >= items }) {
                throw TrainingError.file(file.path, "tensor 'hard_negatives' row \(bad) is \(rows[bad]), not an item row in 0..<\(items)")
            }
            hard = rows.map { Int32($0) }
        }
        return (state, hard)
    }
}
