// PrecisionCLITests: `encode --precision` on this CPU and on a narrower one (oneDNN's ISA cap): the kernel is named, and
// a precision the CPU lacks falls back to float32.
import Foundation
import Testing
import RecAlignFormats

@Suite(.serialized) struct PrecisionCLITests {
    func encode(_ precision: String, in dir: String, environment: [String: String] = [:]) throws -> (CLI.Result, [Float]) {
        let texts = ["Heat (1995) Action Crime Thriller", "Toy Story (1995) Animation Children's Comedy", "", "a b c d e f g"]
        try texts.joined(separator: "\n").appending("\n").write(toFile: dir + "/in.txt", atomically: true, encoding: .utf8)
        let out = dir + "/\(precision)-\(environment.isEmpty ? "native" : "capped").npy"
        let r = try CLI.run(["encode", "--model", CLI.model, "--input", dir + "/in.txt", "--output", out, "--precision", precision],
                            environment: environment)
        return (r, r.status == 0 ? try NpyFile.read(out).floats ?? [] : [])
    }

    func minCosine(_ a: [Float], _ b: [Float], dim: Int = 384) -> Float {
        stride(from: 0, to: a.count, by: dim).map { s -> Float in
            var d: Float = 0, x: Float = 0, y: Float = 0
            for i in s..<(s + dim) { d += a[i] * b[i]; x += a[i] * a[i]; y += b[i] * b[i] }
            return d / (x * y).squareRoot()
        }.min() ?? 0
    }

    @Test(.enabled(if: CLI.hasModel)) func int8NamesItsKernelAndStaysClose() throws {
        let dir = try CLI.tempDir()
        let (r32, fp32) = try encode("fp32", in: dir)
        let (r8, int8) = try encode("int8", in: dir)
        #expect(r32.status == 0 && r8.status == 0, "\(r32.stderr)\(r8.stderr)")
        #expect(!r32.stderr.contains("precision"), "fp32 is the default and says nothing")
        #expect(r8.stderr.contains("precision int8: oneDNN"), "\(r8.stderr)")
        #expect(minCosine(fp32, int8) >= 0.99)
    }

    /// With oneDNN capped at AVX2 (a Zen 3 class CPU): bf16 falls back to float32 and says so; int8 runs with
    /// 7-bit activations (no VNNI: u8 x s8 pairs would saturate int16) and the FFN output in float32.
    @Test(.enabled(if: CLI.hasModel)) func narrowerCPUFallsBackCleanly() throws {
        let dir = try CLI.tempDir()
        let avx2 = ["ONEDNN_MAX_CPU_ISA": "AVX2"]
        let (_, fp32) = try encode("fp32", in: dir)
        let (rb, bf16) = try encode("bf16", in: dir, environment: avx2)
        #expect(rb.status == 0, "\(rb.stderr)")
        #expect(rb.stderr.contains("bf16 unavailable") && rb.stderr.contains("running fp32"), "\(rb.stderr)")
        #expect(bf16 == fp32, "the fallback must be the float32 path itself")
        let (r8, int8) = try encode("int8", in: dir, environment: avx2)
        #expect(r8.status == 0, "\(r8.stderr)")
        #expect(r8.stderr.contains("on avx2") && r8.stderr.contains("7-bit activations"), "\(r8.stderr)")
        #expect(minCosine(fp32, int8) >= 0.995)
    }

    @Test func unknownPrecisionIsRefused() throws {
        let r = try CLI.run(["encode", "--input", "/dev/null", "--output", "/tmp/x.npy", "--precision", "fp16"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("fp16") && r.stderr.contains("--precision"), "\(r.stderr)")
    }
}
