// Precision: the number format an inference projection runs in, and what this CPU makes of a request for one.

/// Number format of an inference projection. fp32 is the default and the parity path; int8 and bf16 trade a
/// little accuracy for speed where the CPU has the instructions (`Precision.plan`).
public enum Precision: String, CaseIterable, Sendable {
    case fp32, bf16, int8

    /// What `requested` runs as on this machine: the precision and a line naming the kernel. int8 runs on any
    /// x86-64 oneDNN supports (with the FFN's output projection in bf16 where bf16 runs natively, else float32);
    /// bf16 only where oneDNN has a native bf16 kernel (AVX-512 BF16 or AMX), else fp32 with the reason
    /// (oneDNN's emulated bf16 is slower than float32).
    public static func plan(_ requested: Precision) -> (precision: Precision, description: String) {
        requested == .int8 ? plans.int8 : requested == .bf16 ? plans.bf16 : plans.fp32
    }

    /// Every plan, probed once per process (the CPU does not change; each probe compiles a oneDNN primitive).
    private static let plans: (fp32: (Precision, String), int8: (Precision, String), bf16: (Precision, String)) = {
        let bf16 = probe(.bf16, bf16Plan: nil)
        return (probe(.fp32, bf16Plan: bf16), probe(.int8, bf16Plan: bf16), bf16)
    }()

    /// What `requested` runs as, asked of oneDNN; the int8 plan names the bf16 plan's choice for the FFN output.
    private static func probe(_ requested: Precision, bf16Plan: (Precision, String)?) -> (precision: Precision, description: String) {
        let fp32 = "fp32: OpenBLAS sgemm" + (OpenBLASKernels.shared.map { " (core \($0.core), packed weights)" } ?? "")
            + (FloatEnvironment.flushesSubnormals ? ", subnormals flushed to zero" : "")
        switch requested {
        case .fp32: return (.fp32, fp32)
        case .int8:
            guard let (_, impl) = OneDNN.preferredWeights(k: 384, n: 384, types: .int8) else {
                return (.fp32, "int8 unavailable (oneDNN has no int8 matmul here); running " + fp32)
            }
            let activations = OneDNN.hasVNNI ? "u8 activations" : "7-bit activations (no VNNI)"
            let ffn = bf16Plan?.0 == .bf16 ? "bf16" : "float32"
            return (.int8, "int8: oneDNN \(impl) on \(OneDNN.isa), per-channel s8 weights, per-row \(activations) "
                    + "(up to \(LowPrecisionWeight.maxOutliers) outlier columns in float32), int32 accumulation; "
                    + "FFN output projection in \(ffn)")
        case .bf16:
            guard let (_, impl) = OneDNN.preferredWeights(k: 384, n: 384, types: .bf16),
                  impl.contains("bf16") || impl.contains("amx") else {
                return (.fp32, "bf16 unavailable (no AVX-512 BF16 / AMX; oneDNN ISA \(OneDNN.isa)); running " + fp32)
            }
            return (.bf16, "bf16: oneDNN \(impl) on \(OneDNN.isa), bf16 weights and activations, float32 accumulation")
        }
    }
}
