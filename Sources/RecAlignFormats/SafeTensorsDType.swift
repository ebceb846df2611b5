// SafeTensorsDType: the element types RecAlign accepts in a .safetensors file, with their byte sizes.
import Foundation

/// A safetensors element type (the header's `dtype` string).
public enum SafeTensorsDType: String, CaseIterable, Sendable {
    case f32 = "F32", f16 = "F16", bf16 = "BF16", f64 = "F64"
    case i64 = "I64", i32 = "I32", i8 = "I8", u8 = "U8", bool = "BOOL"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f64, .i64: return 8
        case .f32, .i32: return 4
        case .f16, .bf16: return 2
        case .i8, .u8, .bool: return 1
        }
    }

    /// True for the types `SafeTensorsFile.floats` widens / narrows to Float.
    public var isFloatingPoint: Bool {
        switch self {
        case .f32, .f16, .bf16, .f64: return true
        default: return false
        }
    }
}

/// Where one tensor lives in the file: element type, shape, and the byte range inside the data section.
public struct TensorInfo: Equatable, Sendable {
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    /// Byte range relative to the start of the data section (the header's `data_offsets`).
    public let byteRange: Range<Int>
    /// Number of elements (product of the shape; 1 for a scalar).
    public var count: Int { shape.reduce(1, *) }
}
