// IdOrder: the protocol's row order of ids (numeric when every id is an integer, else string order).
import Foundation

/// Orders user and item ids into rows (PROTOCOL section 1).
public enum IdOrder {
    /// True when every id parses as a (64-bit) integer.
    public static func allIntegers<S: Sequence>(_ ids: S) -> Bool where S.Element == String {
        ids.allSatisfy { Int64($0) != nil }
    }

    /// Sorted distinct ids: by integer value when all ids are integers (ties such as "07"/"7" by string),
    /// otherwise by plain string (unicode scalar) order.
    public static func sorted<S: Sequence>(_ ids: S) -> [String] where S.Element == String {
        let distinct = Array(Set(ids))
        if allIntegers(distinct) {
            return distinct.map { (Int64($0)!, $0) }
                .sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1.unicodeScalars.lexicographicallyPrecedes($1.1.unicodeScalars) }
                .map { $0.1 }
        }
        return distinct.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
    }
}
