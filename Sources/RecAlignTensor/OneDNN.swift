// OneDNN: int8 and bf16 matrix products through oneDNN's JIT kernels, which pick the CPU's best ISA at run time.
import CDNNL
import Foundation

/// The oneDNN matmul primitives a low-precision projection runs: C[m, n] = A[m, k] · B[k, n] with A row-major
/// (u8 or bf16), B a weight packed once in the layout oneDNN prefers, C row-major (s32 or f32). oneDNN
/// generates the kernel for the CPU it runs on (AVX-512 VNNI / BF16 / AMX, AVX2, ...) and names it in
/// `implementation`; RecAlign splits rows over the cores itself, so every call runs on the calling thread.
enum OneDNN {
    /// The CPU engine, or nil when oneDNN cannot create one.
    nonisolated(unsafe) static let engine: dnnl_engine_t? = {
        var e: dnnl_engine_t?
        return dnnl_engine_create(&e, dnnl_cpu, 0) == dnnl_success ? e : nil
    }()

    /// The instruction set oneDNN dispatches to on this CPU (honours `ONEDNN_MAX_CPU_ISA`).
    static var isa: String {
        switch dnnl_get_effective_cpu_isa() {
        case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx"
        case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16"
        case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni"
        case dnnl_cpu_isa_avx512_core: return "avx512_core"
        case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni"
        case dnnl_cpu_isa_avx2: return "avx2"
        case dnnl_cpu_isa_avx: return "avx"
        case dnnl_cpu_isa_sse41: return "sse41"
        default: return "other"
        }
    }

    /// True when u8 × s8 products accumulate straight into int32 (VNNI). Without it oneDNN pairs them in
    /// int16 (`vpmaddubsw`), which saturates unless activations stay below 128.
    static var hasVNNI: Bool {
        let i = dnnl_get_effective_cpu_isa()
        return i == dnnl_cpu_isa_avx2_vnni || i == dnnl_cpu_isa_avx512_core_vnni || i == dnnl_cpu_isa_avx512_core_bf16
            || i == dnnl_cpu_isa_avx512_core_amx
    }

    /// Element types of one product.
    struct Types: Hashable {
        var src: dnnl_data_type_t, weights: dnnl_data_type_t, dst: dnnl_data_type_t
        static let int8 = Types(src: dnnl_u8, weights: dnnl_s8, dst: dnnl_s32)
        static let bf16 = Types(src: dnnl_bf16, weights: dnnl_bf16, dst: dnnl_f32)
    }

    /// Stops with `what` when a oneDNN call fails (a call, not an assertion: it runs in -Ounchecked builds too).
    static func check(_ status: dnnl_status_t, _ what: @autoclosure () -> String) {
        if status != dnnl_success { fatalError("\(what()) (oneDNN status \(status.rawValue))") }
    }

    static func desc(_ dims: [Int], _ type: dnnl_data_type_t, _ tag: dnnl_format_tag_t) -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        let d = dims.map(Int64.init)
        check(dnnl_memory_desc_init_by_tag(&md, Int32(d.count), d, type, tag), "oneDNN: memory desc \(dims)")
        return md
    }

    /// A compiled product for one row count m.
    final class Primitive: @unchecked Sendable {
        let primitive: dnnl_primitive_t
        let scratchpadBytes: Int
        init(_ p: dnnl_primitive_t, scratchpad: Int) { primitive = p; scratchpadBytes = scratchpad }
        deinit { dnnl_primitive_destroy(primitive) }
    }

    /// Primitive descriptor for A [m, k] · B [k, n] with B in `weights` (a concrete layout, or format_tag_any).
    static func descriptor(m: Int, k: Int, n: Int, types: Types, weights: dnnl_memory_desc_t) -> dnnl_primitive_desc_t? {
        guard let engine else { return nil }
        var src = desc([m, k], types.src, dnnl_ab), dst = desc([m, n], types.dst, dnnl_ab), w = weights
        var md = dnnl_matmul_desc_t()
        guard dnnl_matmul_desc_init(&md, &src, &w, nil, &dst) == dnnl_success else { return nil }
        var attr: dnnl_primitive_attr_t?
        guard dnnl_primitive_attr_create(&attr) == dnnl_success else { return nil }
        defer { dnnl_primitive_attr_destroy(attr) }
        dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user)   // thread-safe execution
        var pd: dnnl_primitive_desc_t?
        guard dnnl_primitive_desc_create(&pd, &md, attr, engine, nil) == dnnl_success else { return nil }
        return pd
    }

    static func implementation(_ pd: dnnl_primitive_desc_t) -> String {
        var s: UnsafePointer<CChar>?
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &s)
        return s.map { String(cString: $0) } ?? "?"
    }

    /// The layout oneDNN prefers for B [k, n] of `types` (asked for a representative m), and its kernel's name.
    static func preferredWeights(k: Int, n: Int, types: Types) -> (md: dnnl_memory_desc_t, implementation: String)? {
        guard let pd = descriptor(m: 256, k: k, n: n, types: types, weights: desc([k, n], types.weights, dnnl_format_tag_any))
        else { return nil }
        defer { dnnl_primitive_desc_destroy(pd) }
        guard let w = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0) else { return nil }
        return (w.pointee, implementation(pd))
    }

    private struct Key: Hashable { var m: Int, k: Int, n: Int, types: Types }
    private static let lock = NSLock()
    nonisolated(unsafe) private static var cache: [Key: Primitive] = [:]

    /// The primitive for m rows over a weight in `weights` (the layout `preferredWeights` gave for this k, n
    /// and types), compiled once per m.
    static func primitive(m: Int, k: Int, n: Int, types: Types, weights: dnnl_memory_desc_t) -> Primitive {
        let key = Key(m: m, k: k, n: n, types: types)
        lock.lock(); defer { lock.unlock() }
        if let p = cache[key] { return p }
        guard let pd = descriptor(m: m, k: k, n: n, types: types, weights: weights) else {
            fatalError("oneDNN: no matmul for [\(m), \(k)] x [\(k), \(n)] in the packed weight layout")
        }
        defer { dnnl_primitive_desc_destroy(pd) }
        var p: dnnl_primitive_t?
        check(dnnl_primitive_create(&p, pd), "oneDNN: cannot create a matmul primitive")
        let scratch = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0).map { d -> Int in
            var d = d.pointee; return dnnl_memory_desc_get_size(&d)
        } ?? 0
        let prim = Primitive(p!, scratchpad: scratch)
        cache[key] = prim
        return prim
    }

    /// Runs `primitive` with its arguments (pointers to caller memory described by `descs`) on this thread.
    static func execute(_ primitive: dnnl_primitive_t, _ args: [(Int32, dnnl_memory_desc_t, UnsafeMutableRawPointer)]) {
        guard let engine else { fatalError("oneDNN: no CPU engine") }
        omp_set_num_threads(1)
        var stream: dnnl_stream_t?
        check(dnnl_stream_create(&stream, engine, UInt32(dnnl_stream_default_flags.rawValue)), "oneDNN: cannot create a stream")
        defer { dnnl_stream_destroy(stream) }
        var memories: [dnnl_memory_t?] = []
        defer { for m in memories { dnnl_memory_destroy(m) } }
        var execArgs: [dnnl_exec_arg_t] = []
        for (arg, d, ptr) in args {
            var d = d, mem: dnnl_memory_t?
            check(dnnl_memory_create(&mem, &d, engine, ptr), "oneDNN: cannot wrap a buffer")
            memories.append(mem)
            execArgs.append(dnnl_exec_arg_t(arg: arg, memory: mem))
        }
        check(dnnl_primitive_execute(primitive, stream, Int32(execArgs.count), execArgs), "oneDNN: matmul failed")
        dnnl_stream_wait(stream)
    }

    /// Copies a plain row-major B [k, n] given as Bᵀ [n, k] (a Linear's weight) into the `packed` layout.
    static func pack(_ plainTransposed: UnsafeRawPointer, k: Int, n: Int, type: dnnl_data_type_t,
                     into packed: UnsafeMutableRawPointer, layout: dnnl_memory_desc_t) {
        guard let engine else { fatalError("oneDNN: no CPU engine") }
        var from = desc([k, n], type, dnnl_ba), to = layout
        var pd: dnnl_primitive_desc_t?
        check(dnnl_reorder_primitive_desc_create(&pd, &from, engine, &to, engine, nil), "oneDNN: cannot reorder weights")
        defer { dnnl_primitive_desc_destroy(pd) }
        var p: dnnl_primitive_t?
        check(dnnl_primitive_create(&p, pd), "oneDNN: cannot create a reorder")
        defer { dnnl_primitive_destroy(p) }
        execute(p!, [(Int32(recalign_dnnl_arg_from()), from, UnsafeMutableRawPointer(mutating: plainTransposed)),
                     (Int32(recalign_dnnl_arg_to()), to, packed)])
    }
}
