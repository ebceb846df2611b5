// Fuzz target safetensors: SafeTensorsFile header validation, then reading every tensor it lists.
import Foundation
import RecAlignFormats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = writeScratch("input.safetensors", UnsafeBufferPointer(start: data, count: size))
    guard let file = try? SafeTensorsFile(path: path) else { return 0 }
    _ = file.metadata.count
    for name in file.names {
        guard let info = file.info(name) else { preconditionFailure("listed tensor \(name) has no info") }
        if info.dtype.isFloatingPoint {
            let v = (try? file.floats(name, finite: false)) ?? []
            precondition(v.count == info.count, "\(name): \(v.count) floats for \(info.count) elements")
            // The default read refuses exactly the tensors holding a NaN or an infinity.
            precondition((try? file.floats(name)) != nil || v.contains { !$0.isFinite }, "\(name): finite floats refused")
        } else {
            _ = try? file.int64s(name)
        }
        _ = try? file.withRawBytes(name) { $0.reduce(0 as UInt8, &+) }
    }
    return 0
}
