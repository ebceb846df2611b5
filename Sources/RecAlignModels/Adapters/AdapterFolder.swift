// AdapterFolder: reading and writing adapter folders (adapter_config.json + weights), errors naming the file and field.
import Foundation
import RecAlignNN
import RecAlignFormats
import RecAlignTensor

/// An adapter folder opened for loading: its config, decoded into each method's `Codable` config, and its
/// weights, read tensor by tensor with shape checks. Every error names the file and the field or tensor.
public struct AdapterFolder {
    /// File names inside an adapter folder written by RecAlign (prompt, prefix) or PEFT (LoRA, IA3).
    public static let config = "adapter_config.json"
    public static let recAlignWeights = "adapter.safetensors"
    public static let peftWeights = "adapter_model.safetensors"

    /// The fields every adapter config may carry: which method wrote it, and the model it was made for.
    struct Header: Decodable {
        var method: String?
        var peft_type: String?
        var hidden_size: Int?
        var num_hidden_layers: Int?
    }

    public let path: String
    public let configPath: String
    let data: Data
    let header: Header

    /// Reads `path/adapter_config.json` (a JSON object with `method` or PEFT's `peft_type`).
    public init(_ path: String) throws {
        self.path = path
        configPath = (path as NSString).appendingPathComponent(AdapterFolder.config)
        guard let data = FileManager.default.contents(atPath: configPath),
              (try? JSONSerialization.jsonObject(with: data)) is [String: Any] else {
            throw FormatError(.cannotRead, file: configPath, "cannot read the adapter config (missing or not a JSON object)")
        }
        self.data = data
        header = try AdapterFolder.decode(Header.self, from: data, file: configPath)
        guard header.method != nil || header.peft_type != nil else {
            throw FormatError(.badValue, file: configPath, field: "method", "field 'method' (or PEFT's 'peft_type') is missing")
        }
    }

    /// PEFT's `peft_type` (LORA, IA3, ...) or nil for a RecAlign adapter.
    public var peftType: String? { header.peft_type }
    /// RecAlign's `method` field.
    public var method: String? { header.method }

    /// The config as `T`; a missing or mistyped field is one line naming it.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T { try AdapterFolder.decode(type, from: data, file: configPath) }

    static func decode<T: Decodable>(_ type: T.Type, from data: Data, file: String) throws -> T {
        do { return try JSONDecoder().decode(type, from: data) } catch let error as DecodingError {
            func field(_ path: [CodingKey]) -> String { path.map(\.stringValue).joined(separator: ".") }
            switch error {
            case let .typeMismatch(t, ctx), let .valueNotFound(t, ctx):
                throw FormatError(.wrongType, file: file, field: field(ctx.codingPath), "field '\(field(ctx.codingPath))' must be \(t)")
            case let .keyNotFound(key, ctx):
                let name = field(ctx.codingPath + [key])
                throw FormatError(.badValue, file: file, field: name, "field '\(name)' is required")
            default:
                throw FormatError(.malformedJSON, file: file, "\(error)")
            }
        }
    }

    /// Refuses a config made for another model (hidden_size, num_hidden_layers when present).
    func checkModel(hiddenSize: Int, layers: Int, base: String) throws {
        for (key, value, expected) in [("hidden_size", header.hidden_size, hiddenSize), ("num_hidden_layers", header.num_hidden_layers, layers)] {
            if let value, value != expected {
                throw FormatError(.badValue, file: configPath, field: key, "field '\(key)' is \(value) but the base model \(base) has \(expected)")
            }
        }
    }

    /// A field that must equal `expected` (when present).
    public func require(_ key: String, _ value: Int?, equals expected: Int) throws {
        if let value, value != expected {
            throw FormatError(.badValue, file: configPath, field: key, "field '\(key)' is \(value) but the tensors hold \(expected)")
        }
    }

    /// The folder's weights file `name`, read with `AdapterTensors`.
    public func tensors(_ name: String) throws -> AdapterTensors {
        AdapterTensors(try SafeTensorsFile(path: (path as NSString).appendingPathComponent(name)))
    }
}

/// Tensors read from an adapter's weights file; `finish` refuses any tensor that was not read.
public final class AdapterTensors {
    public let file: SafeTensorsFile
    private var used = Set<String>()

    init(_ file: SafeTensorsFile) { self.file = file }

    /// Whether the file holds `name`.
    public func has(_ name: String) -> Bool { file.info(name) != nil }

    /// Tensor `name` of shape [rows, cols] (any row count when `rows` is nil); finite values only.
    public func matrix(_ name: String, rows: Int? = nil, cols: Int) throws -> Tensor {
        try read(name, accepting: { $0.count == 2 && $0[1] == cols && (rows == nil || $0[0] == rows) },
                 expected: "[\(rows.map(String.init) ?? "n"), \(cols)]")
    }

    /// Tensor `name` with exactly `shape`.
    public func tensor(_ name: String, shape: [Int]) throws -> Tensor {
        try read(name, accepting: { $0 == shape }, expected: "\(shape)")
    }

    private func read(_ name: String, accepting: ([Int]) -> Bool, expected: String) throws -> Tensor {
        guard let info = file.info(name) else { throw FormatError(.badValue, file: file.path, field: name, "tensor '\(name)' is missing") }
        guard accepting(info.shape) else {
            throw FormatError(.badValue, file: file.path, field: name, "tensor '\(name)' has shape \(info.shape), expected \(expected)")
        }
        let t = Tensor(zeros: info.shape)
        try file.copyFloats(name, into: t.buffer)
        used.insert(name)
        return t
    }

    /// Refuses tensors no `matrix` / `tensor` call read.
    public func finish(_ what: String) throws {
        let unused = file.names.filter { !used.contains($0) }.sorted()
        guard unused.isEmpty else {
            throw FormatError(.badValue, file: file.path, "\(unused.count) tensor(s) not used by \(what): "
                              + unused.prefix(5).joined(separator: ", ") + (unused.count > 5 ? ", ..." : ""))
        }
    }
}

/// `adapter_config.json` of RecAlign's input adapters (soft prompt, prefix): the method, the model it was made
/// for, the number of virtual tokens and (soft prompt) whether they are pooled.
struct InputAdapterConfig: Codable {
    var method: String
    var base_model: String?
    var hidden_size: Int?
    var num_hidden_layers: Int?
    var num_virtual_tokens: Int?
    var pool_virtual_tokens: Bool?
}

/// Writes an input adapter's tensors by name into `dir/adapter.safetensors` and its config into
/// `dir/adapter_config.json`.
func saveInputAdapter(_ adapter: Module, method: String, of encoder: SentenceEncoder, virtualTokens: Int, pooled: Bool? = nil,
                      to dir: String) throws {
    var w = SafeTensorsWriter(metadata: ["format": "pt", "recalign_method": method])
    for (name, t) in adapter.namedParameters() { try w.add(name, shape: t.shape, buffer: UnsafeBufferPointer(t.buffer)) }
    try w.write(to: (dir as NSString).appendingPathComponent(AdapterFolder.recAlignWeights))
    let c = encoder.model.config
    try writeJSON(InputAdapterConfig(method: method, base_model: encoder.folder.path, hidden_size: c.hiddenSize,
                                     num_hidden_layers: c.numHiddenLayers, num_virtual_tokens: virtualTokens, pool_virtual_tokens: pooled),
                  to: (dir as NSString).appendingPathComponent(AdapterFolder.config))
}

/// Writes a weight adapter in PEFT's layout: the model's tensors whose names `isAdapter` picks, under the
/// PeftModel wrapper's prefix `base_model.model.`, into `dir/adapter_model.safetensors`, and `config` into
/// `dir/adapter_config.json`.
func savePeftAdapter(_ model: BertModel, _ isAdapter: (String) -> Bool, to dir: String, config: some Encodable) throws {
    var w = SafeTensorsWriter(metadata: ["format": "pt"])
    for (name, t) in model.namedParameters() where isAdapter(name) {
        try w.add("base_model.model." + name, shape: t.shape, buffer: UnsafeBufferPointer(t.buffer))
    }
    try w.write(to: (dir as NSString).appendingPathComponent(AdapterFolder.peftWeights))
    try writeJSON(config, to: (dir as NSString).appendingPathComponent(AdapterFolder.config))
}

/// Writes a config atomically as pretty-printed JSON with sorted keys.
func writeJSON<T: Encodable>(_ value: T, to path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    try AtomicFile.write(try encoder.encode(value), to: path)
}
