// HalfWideningTests: F16 / BF16 to Float32 against hand-computed values and Swift's Float16 over all 65536 codes.
import Foundation
import Testing
import RecAlignFormats

@Suite struct HalfWideningTests {
    @Test func f16HandComputedValues() {
        let cases: [(UInt16, Float)] = [
            (0x3C00, 1.0), (0xC000, -2.0), (0x3800, 0.5), (0xB400, -0.25), (0x4900, 10.0),
            (0x3555, 0.333251953125),                      // 2^-2 * (1 + 341/1024)
            (0x7BFF, 65504.0),                             // largest normal
            (0x0400, 0.00006103515625),                    // 2^-14, smallest normal
            (0x03FF, 1023.0 / 16777216.0),                 // largest subnormal, 1023 * 2^-24
            (0x0200, 1.0 / 32768.0),                       // subnormal 2^-15
            (0x0001, 1.0 / 16777216.0),                    // smallest subnormal 2^-24
        ]
        for (bits, want) in cases {
            #expect(HalfWidening.f16ToFloat(bits) == want, "0x\(String(bits, radix: 16))")
        }
        #expect(HalfWidening.f16ToFloat(0x0000).bitPattern == 0)
        #expect(HalfWidening.f16ToFloat(0x8000).bitPattern == 0x8000_0000)   // -0
        #expect(HalfWidening.f16ToFloat(0x7C00) == .infinity)
        #expect(HalfWidening.f16ToFloat(0xFC00) == -.infinity)
        #expect(HalfWidening.f16ToFloat(0x7E00).isNaN)
        #expect(HalfWidening.f16ToFloat(0xFE01).isNaN)
    }

    @Test func bf16HandComputedValues() {
        #expect(HalfWidening.bf16ToFloat(0x3F80) == 1.0)
        #expect(HalfWidening.bf16ToFloat(0xC000) == -2.0)
        #expect(HalfWidening.bf16ToFloat(0x4049) == 3.140625)
        #expect(HalfWidening.bf16ToFloat(0x3EAB) == 0.333984375)
        #expect(HalfWidening.bf16ToFloat(0x7F80) == .infinity)
        #expect(HalfWidening.bf16ToFloat(0xFF80) == -.infinity)
        #expect(HalfWidening.bf16ToFloat(0x7FC0).isNaN)
        #expect(HalfWidening.bf16ToFloat(0x0001) == Float(sign: .plus, exponent: -133, significand: 1))
    }

    /// Every F16 code, through the SIMD path (count multiple of 8) and the scalar tail, against Float(Float16).
    /// Subnormal codes are referenced as m·2^-24 instead: Swift's conversion passes through a float32 subnormal,
    /// which reads as 0 on a thread that flushes subnormals (every thread that ran a RecAlign kernel does).
    @Test func f16AllCodesMatchFloat16() {
        let codes = (0 ... 0xFFFF).map { UInt16($0) }
        for count in [65536, 65533] {
            var out = [Float](repeating: 0, count: count)
            codes.withUnsafeBytes { src in
                out.withUnsafeMutableBufferPointer { HalfWidening.widenF16(src.baseAddress!, count: count, into: $0.baseAddress!) }
            }
            var mismatches = 0
            for k in 0 ..< count {
                let c = codes[k], m = c & 0x03FF, sign: Float = c & 0x8000 == 0 ? 1 : -1
                let ref = c & 0x7C00 == 0 && m != 0 ? sign * Float(m) * 0x1p-24 : Float(Float16(bitPattern: c))
                let ok = ref.isNaN ? out[k].isNaN : ref.bitPattern == out[k].bitPattern
                if !ok { mismatches += 1 }
            }
            #expect(mismatches == 0, "count \(count)")
        }
    }

    @Test func bf16VectorMatchesScalar() {
        let codes: [UInt16] = (0 ..< 37).map { UInt16(truncatingIfNeeded: $0 &* 7919 &+ 0x3F00) }
        var out = [Float](repeating: 0, count: codes.count)
        codes.withUnsafeBytes { src in
            out.withUnsafeMutableBufferPointer { HalfWidening.widenBF16(src.baseAddress!, count: codes.count, into: $0.baseAddress!) }
        }
        for k in 0 ..< codes.count {
            #expect(out[k].bitPattern == UInt32(codes[k]) << 16)
        }
    }
}

/// Throughput of the vectorised F16 path on 4M values (printed; run with -c release for a real figure).
@Test func f16WideningThroughput() {
    let n = 1 << 22
    let codes = (0 ..< n).map { UInt16(truncatingIfNeeded: $0 &* 40503) & 0x7BFF }
    var out = [Float](repeating: 0, count: n)
    let t0 = Date()
    codes.withUnsafeBytes { src in
        out.withUnsafeMutableBufferPointer { HalfWidening.widenF16(src.baseAddress!, count: n, into: $0.baseAddress!) }
    }
    let dt = Date().timeIntervalSince(t0)
    print("widenF16: \(n) values in \(String(format: "%.2f", dt * 1000)) ms (\(String(format: "%.0f", Double(n) / dt / 1e6)) M/s)")
    #expect(out[12345] == HalfWidening.f16ToFloat(codes[12345]))
    #expect(out[n - 1] == HalfWidening.f16ToFloat(codes[n - 1]))
}
