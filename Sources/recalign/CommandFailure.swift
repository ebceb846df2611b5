// CommandFailure: a command that cannot go on prints one line (no usage text) and exits 1, having written nothing.
import Foundation
import RecAlignFormats

/// A failure found while a command runs (bad input data, a non-finite result). ArgumentParser prints
/// `Error: <description>` and exits 1; a `ValidationError` is for the command line itself and adds the usage.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Refuses to write a matrix with a non-finite row: names the count and the first rows by `label`.
func requireFinite(_ values: [Float], dim: Int, what: String, label: (Int) -> String) throws {
    guard dim > 0, let first = VectorScan.firstNonFinite(values) else { return }
    var bad: [Int] = []
    for r in (first / dim)..<(values.count / dim) where values[(r * dim)..<((r + 1) * dim)].contains(where: { !$0.isFinite }) {
        bad.append(r)
    }
    throw CommandFailure("\(bad.count) of \(values.count / dim) \(what) are not finite (NaN or inf), nothing written: "
                         + bad.prefix(5).map(label).joined(separator: ", ") + (bad.count > 5 ? ", ..." : ""))
}
