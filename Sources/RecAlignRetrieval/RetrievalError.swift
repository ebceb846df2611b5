// RetrievalError: the thrown errors of the retrieval layer (wrong shapes, bad exclusion lists, bad arguments).
import Foundation
import RecAlignTensor

/// A bad input to a retrieval or evaluation call; the description names the argument and the problem.
public enum RetrievalError: Error, CustomStringConvertible, Equatable {
    /// `field` has the wrong size or shape.
    case shape(field: String, reason: String)
    /// `field` has a value out of range or otherwise invalid.
    case invalid(field: String, reason: String)

    public var description: String {
        switch self {
        case let .shape(field, reason): return "wrong shape of \(field): \(reason)"
        case let .invalid(field, reason): return "invalid \(field): \(reason)"
        }
    }
}

/// Shape and list checks shared by the retrieval entry points.
enum Check {
    /// Number of rows of a row-major matrix with `dim` columns; throws when `count` is not a multiple of it.
    static func rows(_ count: Int, dim: Int, field: String) throws -> Int {
        guard dim > 0 else { throw RetrievalError.invalid(field: "dim", reason: "must be > 0, got \(dim)") }
        guard count % dim == 0 else {
            throw RetrievalError.shape(field: field, reason: "\(count) floats is not a multiple of dim \(dim)")
        }
        return count / dim
    }

    /// Checks per-row exclusion lists: one list per row, each strictly ascending and inside 0..<items.
    static func exclusions(_ lists: [[Int32]], rows: Int, items: Int, field: String = "exclude") throws {
        guard lists.count == rows else {
            throw RetrievalError.shape(field: field, reason: "\(lists.count) lists for \(rows) users/queries")
        }
        for (u, list) in lists.enumerated() {
            var prev: Int32 = -1
            for r in list {
                guard r > prev else {
                    throw RetrievalError.invalid(field: "\(field)[\(u)]",
                                                 reason: "rows must be strictly ascending (\(r) after \(prev))")
                }
                guard Int(r) < items else {
                    throw RetrievalError.invalid(field: "\(field)[\(u)]", reason: "row \(r) >= item count \(items)")
                }
                prev = r
            }
        }
    }

    /// `exclusions` checked, then flattened for the workers (nil: an empty list per row).
    static func sortedRows(_ lists: [[Int32]]?, rows: Int, items: Int) throws -> SortedRows {
        guard let lists else { return SortedRows(empty: rows) }
        try exclusions(lists, rows: rows, items: items)
        return SortedRows(lists)
    }

    /// Block and batch sizes must be positive.
    static func positive(_ a: Int, _ b: Int, field: String) throws {
        guard a > 0, b > 0 else { throw RetrievalError.invalid(field: field, reason: "must be > 0") }
    }

    /// Checks target rows: one per user, inside 0..<items.
    static func targets(_ targets: [Int], rows: Int, items: Int) throws {
        guard targets.count == rows else {
            throw RetrievalError.shape(field: "targets", reason: "\(targets.count) targets for \(rows) users")
        }
        for (u, t) in targets.enumerated() where t < 0 || t >= items {
            throw RetrievalError.invalid(field: "targets[\(u)]", reason: "row \(t) outside 0..<\(items)")
        }
    }
}

/// Binary search in a sorted Int32 buffer.
@inline(__always)
func sortedContains(_ list: UnsafeBufferPointer<Int32>, _ row: Int32) -> Bool {
    var lo = 0, hi = list.count
    while lo < hi {
        let mid = (lo + hi) >> 1
        if list[mid] < row { lo = mid + 1 } else { hi = mid }
    }
    return lo < list.count && list[lo] == row
}

/// BLAS thread count control: the parallel kernels run one single-threaded GEMM per worker.
/// Nested or concurrent users are counted, so the first one in saves the OpenBLAS thread count and the
/// last one out restores it.
enum BLASThreads {
    /// Runs `body` with OpenBLAS set to one thread when `workers > 1` (`BLAS.singleThreaded`).
    static func singleThreaded<T>(if workers: Int, _ body: () throws -> T) rethrows -> T {
        guard workers > 1 else { return try body() }
        return try BLAS.singleThreaded(body)
    }
}
