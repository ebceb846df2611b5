// HeadFiles: a trained head as head.safetensors + head_config.json, and `loadHead` to read it back.
import Foundation
import RecAlignNN
import RecAlignFormats

public enum HeadFiles {
    public static let weightsName = "head.safetensors"
    public static let configName = "head_config.json"
    /// The folder beside the head holding the encoder its item embeddings come from, when that is not the base
    /// model (joint training's tuned encoder, or the encoder a stacked run started from).
    public static let encoderFolder = "encoder"

    /// Writes the head's parameters (by dotted name) and its config into `dir` (created if needed), atomically.
    public static func save(_ head: RecHead, to dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var w = SafeTensorsWriter(metadata: ["format": "pt", "recalign": "head"])
        for p in head.namedParameters() { try w.add(p.name, shape: p.tensor.shape, floats: p.tensor.array) }
        try w.write(to: (dir as NSString).appendingPathComponent(weightsName))
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(enc.encode(head.config), to: (dir as NSString).appendingPathComponent(configName))
    }
}

/// Reads a head saved by `HeadFiles.save`: rebuilds it from head_config.json and fills every parameter from
/// head.safetensors. Throws naming the file and the field or tensor that is missing or mis-shaped.
public func loadHead(_ dir: String) throws -> RecHead {
    let configPath = (dir as NSString).appendingPathComponent(HeadFiles.configName)
    let weightsPath = (dir as NSString).appendingPathComponent(HeadFiles.weightsName)
    guard let data = FileManager.default.contents(atPath: configPath) else {
        throw HeadError.badFile(path: configPath, detail: "cannot read the head config")
    }
    let config: HeadConfig
    do { config = try JSONDecoder().decode(HeadConfig.self, from: data) } catch {
        throw HeadError.badFile(path: configPath, detail: "not a head config: \(error)")
    }
    do { try config.validate() } catch { throw HeadError.badFile(path: configPath, detail: "\(error)") }
    let file = try SafeTensorsFile(path: weightsPath)
    guard let needed = config.minimumParameters, needed <= file.elementCount else {
        throw HeadError.badFile(path: configPath, detail: "the config's sizes need at least \(config.minimumParameters.map(String.init) ?? "more than Int.max") "
                                + "parameters but \(weightsPath) holds \(file.elementCount) values")
    }
    let head = RecHead(config: config)
    for p in head.namedParameters() {
        // Heads saved before the tower ran on BertLayer name its layers' tensors the old way.
        var name = p.name
        if file.info(name) == nil, let old = SequentialTower.legacyName(name), file.info(old) != nil { name = old }
        guard let info = file.info(name) else { throw HeadError.badFile(path: weightsPath, detail: "missing tensor '\(p.name)'") }
        guard info.shape == p.tensor.shape else {
            throw HeadError.badFile(path: weightsPath, detail: "tensor '\(name)' has shape \(info.shape), the config needs \(p.tensor.shape)")
        }
        try file.copyFloats(name, into: p.tensor.buffer)
    }
    return head
}
