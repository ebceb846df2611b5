// SafeTensorsReaderTests: reading files written by Python's safetensors, and one distinct error per corruption.
import Foundation
import Testing
import RecAlignFormats
import RecAlignTestSupport

@Suite struct SafeTensorsReaderTests {
    @Test func readsPythonWrittenF32() throws {
        let f = try SafeTensorsFile(path: Fixtures.path("python_f32.safetensors"))
        #expect(Set(f.names) == ["a.bias", "b.weight"])
        #expect(f.metadata == ["format": "pt"])
        let a = try #require(f.info("a.bias"))
        #expect(a.dtype == .f32 && a.shape == [3] && a.byteRange.count == 12)
        #expect(try f.floats("a.bias") == [0.5, -1.25, 3.0])
        // b = arange(6)/8 - 0.25
        #expect(try f.floats("b.weight") == (0 ..< 6).map { Float($0) / 8 - 0.25 })
        #expect(try f.requireInfo("b.weight").shape == [2, 3])
    }

    @Test func readsPythonWrittenMixedDTypes() throws {
        let f = try SafeTensorsFile(path: Fixtures.path("python_mixed.safetensors"))
        #expect(f.metadata == ["format": "pt", "note": "fixture"])
        let half = try f.floats("half", finite: false)
        #expect(try f.requireInfo("half").dtype == .f16)
        #expect(try f.requireInfo("half").shape == [4, 4])
        let want: [Float] = [1, -2, 0, -0.0, 1.0 / 16777216, 1023.0 / 16777216, 0.00006103515625, 65504,
                             .infinity, -.infinity, .nan, 0.333251953125, 0.5, -0.25, 10, 1.0 / 32768]
        for k in 0 ..< 16 {
            if want[k].isNaN { #expect(half[k].isNaN) } else { #expect(half[k].bitPattern == want[k].bitPattern, "half[\(k)]") }
        }
        #expect(try f.int64s("position_ids") == [0, 1, 2, 3, 4])
        #expect(try f.requireInfo("position_ids").shape == [1, 5])
        #expect(try f.floats("double", finite: false) == [1.0, Float(-0.1), Float(1e300)])   // 1e300 narrows to +inf
        #expect(try f.int64s("i32") == [-7, 7])
        #expect(try f.int64s("u8") == [0, 255])
        #expect(try f.int64s("i8") == [-128, 127])
        #expect(try f.int64s("flags") == [1, 0, 1])
        #expect(try f.floats("empty") == [])
        #expect(try f.requireInfo("empty").shape == [0, 3])
    }

    @Test func readsBF16() throws {
        let f = try SafeTensorsFile(path: Fixtures.path("bf16.safetensors"))
        let v = try f.floats("bf", finite: false)
        let want: [Float] = [1, -2, 0, -0.0, .infinity, -.infinity, .nan, Float(sign: .plus, exponent: -133, significand: 1),
                             0.333984375, 3.140625]
        #expect(v.count == 10)
        for k in 0 ..< 10 {
            if want[k].isNaN { #expect(v[k].isNaN) } else { #expect(v[k].bitPattern == want[k].bitPattern, "bf[\(k)]") }
        }
    }

    @Test func copyFloatsChecksCountAndDType() throws {
        let f = try SafeTensorsFile(path: Fixtures.path("python_mixed.safetensors"))
        var buf = [Float](repeating: 0, count: 16)
        try buf.withUnsafeMutableBufferPointer { try f.copyFloats("half", into: $0, finite: false) }
        #expect(buf[0] == 1 && buf[1] == -2 && buf[14] == 10)
        var small = [Float](repeating: 0, count: 15)
        let e1 = #expect(throws: SafeTensorsError.self) { try small.withUnsafeMutableBufferPointer { try f.copyFloats("half", into: $0) } }
        #expect(e1?.kind == .countMismatch)
        #expect(e1?.description.contains("tensor 'half'") == true)
        let e2 = #expect(throws: SafeTensorsError.self) { try f.floats("position_ids") }
        #expect(e2?.kind == .wrongDType)
        let e3 = #expect(throws: SafeTensorsError.self) { try f.floats("nope") }
        #expect(e3?.kind == .unknownTensor)
        let e4 = #expect(throws: SafeTensorsError.self) { try f.int64s("half") }
        #expect(e4?.kind == .wrongDType)
    }

    /// Cause 2 of the untrusted-inputs issue: a NaN or infinity in a weight is refused where it is read, naming
    /// the tensor and the first bad row (it used to come out as NaN embeddings with exit 0).
    @Test func nonFiniteWeightsAreRefusedByDefault() throws {
        let dir = TestPaths.tempDir("nan")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var values = [Float](repeating: 0.5, count: 12 * 4096)
        values[7 * 4096 + 3] = .nan
        var w = SafeTensorsWriter()
        try w.add("embeddings.word_embeddings.weight", shape: [12, 4096], floats: values)
        try w.add("ok", shape: [2], floats: [1, -1])
        try w.write(to: dir + "/m.safetensors")
        let f = try SafeTensorsFile(path: dir + "/m.safetensors")
        let e = #expect(throws: SafeTensorsError.self) { try f.floats("embeddings.word_embeddings.weight") }
        #expect(e?.kind == .nonFinite)
        #expect(e?.description.contains("tensor 'embeddings.word_embeddings.weight'") == true)
        #expect(e?.description.contains("row 7") == true)
        #expect(try f.floats("ok") == [1, -1])
        #expect(try f.floats("embeddings.word_embeddings.weight", finite: false)[7 * 4096 + 3].isNaN)
        #expect(VectorScan.firstNonFinite([1, 2, .infinity, .nan]) == 2)
        #expect(VectorScan.firstNonFinite([Float](repeating: 1, count: 10_000)) == nil)
    }

    static let ok4 = #"{"dtype":"F32","shape":[4],"data_offsets":[0,16]}"#

    /// Every corruption gives its own error kind, and the message names the file (and tensor when there is one).
    @Test func corruptFilesGiveDistinctErrors() throws {
        typealias K = SafeTensorsError.Kind
        let cases: [(String, Data, K, String)] = [
            ("truncated", Data([1, 2, 3, 4, 5]), .truncatedFile, "shorter than the 8-byte"),
            ("empty", Data(), .truncatedFile, "0 bytes"),
            ("header length past end", safetensorsImage(header: "{}", dataBytes: 20, lengthOverride: 1000),
             .headerLengthPastEnd, "header length 1000"),
            ("huge header length", safetensorsImage(header: "{}", dataBytes: 0, lengthOverride: .max),
             .headerLengthPastEnd, "header length"),
            ("bad JSON", safetensorsImage(header: #"{"t": {"dtype": "#, dataBytes: 0), .badJSON, "not valid JSON"),
            ("not an object", safetensorsImage(header: "[1, 2]", dataBytes: 0), .headerNotObject, "not an object"),
            ("bad metadata", safetensorsImage(header: #"{"__metadata__":{"format":1}}"#, dataBytes: 0), .badMetadata, "'format'"),
            ("missing field", safetensorsImage(header: #"{"t":{"dtype":"F32","shape":[4]}}"#, dataBytes: 16), .badEntry,
             "missing field 'data_offsets'"),
            ("negative dim", safetensorsImage(header: #"{"t":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}}"#, dataBytes: 16),
             .badShape, "dimension 0"),
            ("fractional dim", safetensorsImage(header: #"{"t":{"dtype":"F32","shape":[2.5],"data_offsets":[0,10]}}"#, dataBytes: 16),
             .badShape, "not a non-negative integer"),
            ("unknown dtype", safetensorsImage(header: #"{"t":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}}"#, dataBytes: 4),
             .unknownDType, "unknown dtype 'F8_E4M3'"),
            ("begin after end", safetensorsImage(header: #"{"t":{"dtype":"F32","shape":[0],"data_offsets":[16,8]}}"#, dataBytes: 16),
             .badOffsets, "begin after"),
            ("offsets past end", safetensorsImage(header: #"{"t":"# + SafeTensorsReaderTests.ok4 + "}", dataBytes: 8),
             .offsetsPastEnd, "data_offsets [0, 16] run past the end of the data (8 bytes)"),
            ("byte count", safetensorsImage(header: #"{"t":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}"#, dataBytes: 16),
             .byteCountMismatch, "needs 12"),
            ("overlap", safetensorsImage(header: #"{"a":"# + SafeTensorsReaderTests.ok4 + #","b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}"#,
                                         dataBytes: 24),
             .overlappingTensors, "overlap tensor 'a'"),
        ]
        for (label, image, kind, fragment) in cases {
            let e = try openError(image, name: "model.safetensors")
            #expect(e?.kind == kind, "\(label): got \(String(describing: e))")
            #expect(e?.description.hasPrefix(NSTemporaryDirectory()) == true, "\(label)")
            #expect(e?.description.contains("model.safetensors: ") == true, "\(label)")
            #expect(e?.description.contains(fragment) == true, "\(label): \(String(describing: e))")
        }
        // 15 cases, 12 distinct kinds (truncated/empty, both header lengths, both bad dims share a kind).
        #expect(Set(cases.map { $0.2 }).count == 12)
        // Tensor-level problems name the tensor.
        let e = try openError(safetensorsImage(header: #"{"encoder.layer.0.attention.self.query.weight":"# + SafeTensorsReaderTests.ok4 + "}",
                                               dataBytes: 8))
        #expect(e?.tensor == "encoder.layer.0.attention.self.query.weight")
        #expect(e?.description.hasSuffix("model.safetensors: tensor 'encoder.layer.0.attention.self.query.weight': data_offsets [0, 16] run past the end of the data (8 bytes)") == true)
    }

    @Test func missingFileIsCannotOpen() {
        let e = #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(path: "/nonexistent/recalign/model.safetensors") }
        #expect(e?.kind == .cannotOpen)
        #expect(e?.description.contains("/nonexistent/recalign/model.safetensors") == true)
    }

    @Test func emptyTensorsAndGapsAreAccepted() throws {
        // A zero-size tensor may share an offset with another tensor; unused bytes between tensors are allowed.
        let header = #"{"z":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[6,8]}}"#
        let dir = try scratchDir()
        let p = (dir as NSString).appendingPathComponent("x.safetensors")
        try safetensorsImage(header: header, dataBytes: 8).write(to: URL(fileURLWithPath: p))
        let f = try SafeTensorsFile(path: p)
        #expect(f.names == ["a", "z", "b"])
        #expect(try f.int64s("b") == [6, 7])
        #expect(try f.floats("z") == [])
        try FileManager.default.removeItem(atPath: dir)
    }
}
