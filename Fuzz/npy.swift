// Fuzz target npy: NpyFile.decode on arbitrary bytes; a decoded array must hold shape-product values.
import Foundation
import RecAlignFormats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    guard let a = try? NpyFile.decode(bytes, file: "<fuzz>") else { return 0 }
    let count: Int
    switch a.values {
    case let .float32(v): count = v.count
    case let .int32(v): count = v.count
    case let .int64(v): count = v.count
    }
    precondition(count == a.shape.reduce(1, *), "decoded \(count) values for shape \(a.shape)")
    return 0
}
