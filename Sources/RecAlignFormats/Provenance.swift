// Provenance: which split a tuned checkpoint, adapter or head was trained on, saved next to its weights.
import Foundation

/// `recalign_training.json` in a tuned folder: the split setting and corpus it was trained on. A warm run's
/// training data holds the interactions of the cold split's items, so its cold-split figures would leak;
/// `recalign evaluate --compare` reads this file to leave such rows out.
public struct Provenance: Codable, Equatable, Sendable {
    public static let fileName = "recalign_training.json"
    /// "warm" or "cold".
    public var setting: String
    /// Corpus name (e.g. ml-100k).
    public var corpus: String
    public var method: String

    public init(setting: String, corpus: String, method: String) {
        self.setting = setting; self.corpus = corpus; self.method = method
    }

    /// Writes the file into `dir` atomically.
    public func write(to dir: String) throws {
        let enc = JSONEncoder(); enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try enc.encode(self), to: (dir as NSString).appendingPathComponent(Provenance.fileName))
    }

    /// The provenance saved in `dir`, or nil when the folder has none (e.g. a model from elsewhere).
    /// A file that exists but does not parse is an error naming it.
    public static func read(_ dir: String) throws -> Provenance? {
        let path = (dir as NSString).appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do { return try JSONDecoder().decode(Provenance.self, from: data) } catch {
            throw FormatError(.malformedJSON, file: path, "not a valid provenance file: \(error)")
        }
    }
}
