// SafeTensorsError: every way a .safetensors file or a request against it can be wrong, naming file and tensor.
import Foundation

/// A problem with a safetensors file (reading) or with tensors handed to the writer.
/// `description` reads "<file>: tensor '<name>': <detail>" (or "<file>: <detail>" for file-level problems).
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable {
    /// What went wrong; one case per distinct failure, so callers and tests can tell them apart.
    public enum Kind: String, Equatable, Sendable {
        case cannotOpen            // open/stat/mmap failed
        case truncatedFile         // shorter than the 8-byte length prefix
        case headerLengthPastEnd   // N > file size - 8
        case badJSON               // header bytes are not valid UTF-8 JSON
        case headerNotObject       // JSON is valid but not an object
        case badMetadata           // __metadata__ not a string->string object
        case badEntry              // entry not an object, or a field missing / of the wrong type
        case badShape              // shape not a list of non-negative integers (or overflowing)
        case unknownDType          // dtype not among F32 F16 BF16 F64 I64 I32 I8 U8 BOOL
        case badOffsets            // data_offsets not two non-negative integers with begin <= end
        case offsetsPastEnd        // end beyond the data section
        case byteCountMismatch     // end - begin != product(shape) * dtype size
        case overlappingTensors    // two tensors share bytes
        case unknownTensor         // name not in the file
        case wrongDType            // requested conversion not possible for this dtype
        case countMismatch         // destination buffer size differs from the element count
        case nonFinite             // a float tensor holds NaN or an infinity
        case invalidTensor         // writer: bad name, duplicate name, shape / data mismatch
    }

    public let kind: Kind
    /// The file path as given to the reader / writer.
    public let file: String
    /// The tensor concerned, if any.
    public let tensor: String?
    /// Human-readable detail of the problem.
    public let detail: String

    public init(_ kind: Kind, file: String, tensor: String? = nil, _ detail: String) {
        self.kind = kind; self.file = file; self.tensor = tensor; self.detail = detail
    }

    public var description: String {
        if let t = tensor { return "\(file): tensor '\(t)': \(detail)" }
        return "\(file): \(detail)"
    }
}
