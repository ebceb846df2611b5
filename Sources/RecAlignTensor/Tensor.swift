// Tensor: a shaped, contiguous Float32 view of a Storage, with an optional gradient buffer for autograd.
import Foundation

/// Gradient memory shared by a tensor and the views made from it (reshape, batch slices), so a view's
/// gradient lands in its parent's buffer with no extra backward work. Allocated on first use.
///
/// One buffer per gradient slot (`Parallel.gradSlot`): slot 0 is the ordinary one; the workers of a
/// data-parallel training step (`BLAS.dataParallel`) back-propagate into their own slot, and
/// `reduceSlots()` then adds slots 1... into slot 0. Tensors made inside a worker are touched by that
/// worker only; for tensors shared by workers (parameters) the caller runs `prepareSlots()` first.
public final class GradBox: @unchecked Sendable {
    /// Most gradient slots (and so data-parallel workers) a box holds.
    public static let maxSlots = 8
    public let count: Int
    /// Slot 0.
    private var main: Storage?
    /// Slots 1..<maxSlots, allocated on first use of a slot above 0.
    private var others: UnsafeMutablePointer<Storage?>?

    init(count: Int) { self.count = count }
    deinit {
        if let others {
            others.deinitialize(count: GradBox.maxSlots - 1)
            others.deallocate()
        }
    }

    /// The calling thread's slot's buffer, or nil when none is allocated.
    public var storage: Storage? {
        let s = Parallel.gradSlot
        if s == 0 { return main }
        return others?[s - 1]
    }

    /// The calling thread's slot's buffer, allocated (zeroed) on first access.
    public var materialised: Storage {
        let s = Parallel.gradSlot
        if s == 0 {
            if let m = main { return m }
            let m = Storage(count: count)
            main = m
            return m
        }
        let table = prepareSlots()
        if let m = table[s - 1] { return m }
        let m = Storage(count: count)
        table[s - 1] = m
        return m
    }

    /// Allocates the table of slots above 0 (not their buffers); idempotent. Call it on the owning thread
    /// before workers use a shared tensor's gradient.
    @discardableResult
    public func prepareSlots() -> UnsafeMutablePointer<Storage?> {
        if let others { return others }
        let t = UnsafeMutablePointer<Storage?>.allocate(capacity: GradBox.maxSlots - 1)
        t.initialize(repeating: nil, count: GradBox.maxSlots - 1)
        others = t
        return t
    }

    /// Frees the calling thread's slot's buffer.
    public func release() {
        let s = Parallel.gradSlot
        if s == 0 { main = nil } else { others?[s - 1] = nil }
    }

    /// Zeroes every allocated slot.
    public func zero() {
        main.map { $0.base.update(repeating: 0, count: count) }
        if let others { for i in 0..<(GradBox.maxSlots - 1) { others[i].map { $0.base.update(repeating: 0, count: count) } } }
    }

    /// dSlot0 += dSlot_i for every allocated slot i > 0, then frees those slots. Call from slot 0.
    public func reduceSlots() {
        guard let others else { return }
        for i in 0..<(GradBox.maxSlots - 1) {
            guard let o = others[i] else { continue }
            let dst = materialised.base, src = o.base
            Parallel.chunks(count, cost: 2) { lo, hi in addInPlace(dst + lo, src + lo, hi - lo) }
            others[i] = nil
        }
    }
}

/// A dense row-major Float32 tensor. Shapes follow Hugging Face: hidden states are [B, T, C].
///
/// Values live in `storage` from `offset`; views (reshape, slices along the first axis) share storage and
/// gradient memory. `requiresGrad` marks tensors whose gradient autograd computes; parameters marked
/// frozen have `requiresGrad == false`, get no gradient buffer and cost no backward work.
public final class Tensor: @unchecked Sendable, CustomStringConvertible {
    public let shape: [Int]
    public let count: Int
    public let storage: Storage
    public let offset: Int
    public var requiresGrad: Bool
    /// Gradient memory (nil for tensors that never need one); shared with views.
    public private(set) var gradBox: GradBox?
    /// Offset of this tensor's gradient inside `gradBox` (equals the value offset relative to the root).
    let gradOffset: Int
    /// Optional name (parameters carry their HF weight name).
    public var name: String?

    /// A new zero-filled tensor.
    public init(zeros shape: [Int], requiresGrad: Bool = false) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        count = shape.reduce(1, *)
        storage = Storage(count: count)
        offset = 0
        gradOffset = 0
        self.requiresGrad = requiresGrad
        gradBox = requiresGrad ? GradBox(count: count) : nil
    }

    /// A new tensor whose contents are left for the caller to fill (every element must be written).
    public init(uninitialized shape: [Int]) {
        self.shape = shape
        count = shape.reduce(1, *)
        storage = Storage(count: count, zeroed: false)
        offset = 0
        gradOffset = 0
        requiresGrad = false
        gradBox = nil
    }

    /// A tensor holding a copy of `values`.
    public convenience init(_ values: [Float], shape: [Int], requiresGrad: Bool = false) {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values for shape \(shape)")
        self.init(zeros: shape, requiresGrad: requiresGrad)
        values.withUnsafeBufferPointer { storage.base.update(from: $0.baseAddress!, count: values.count) }
    }

    /// A view of existing storage (shares values and gradient memory).
    init(view shape: [Int], of parent: Tensor, at elementOffset: Int) {
        self.shape = shape
        count = shape.reduce(1, *)
        precondition(elementOffset >= 0 && elementOffset + count <= parent.count, "view out of range")
        storage = parent.storage
        offset = parent.offset + elementOffset
        requiresGrad = parent.requiresGrad
        gradBox = parent.gradBox
        gradOffset = parent.gradOffset + elementOffset
    }

    // MARK: Access

    /// Pointer to the first value.
    @inline(__always) public var data: UnsafeMutablePointer<Float> { storage.base + offset }
    @inline(__always) public var buffer: UnsafeMutableBufferPointer<Float> { .init(start: data, count: count) }
    public var rank: Int { shape.count }
    /// Size of the last axis.
    public var lastDim: Int { shape.last ?? 1 }
    /// Number of rows when viewed as [count / lastDim, lastDim].
    public var rows: Int { lastDim == 0 ? 0 : count / lastDim }

    /// Pointer to the gradient (allocating it). Only valid for tensors that require a gradient.
    @inline(__always) public var gradData: UnsafeMutablePointer<Float> {
        guard let box = gradBox else { fatalError("tensor \(name ?? "") \(shape) has no gradient buffer") }
        return box.materialised.base + gradOffset
    }
    /// The gradient, or nil when none was computed.
    public var grad: Tensor? {
        guard let box = gradBox, let s = box.storage else { return nil }
        let t = Tensor(uninitialized: shape)
        t.data.update(from: s.base + gradOffset, count: count)
        return t
    }
    /// True when a gradient buffer has been allocated.
    public var hasGrad: Bool { gradBox?.storage != nil }

    /// Turns on gradient tracking for a leaf (parameter) tensor.
    public func enableGrad() {
        requiresGrad = true
        if gradBox == nil { gradBox = GradBox(count: count) }
    }
    /// Freezes a leaf tensor: no gradient buffer, no backward work.
    public func freeze() { requiresGrad = false; gradBox = nil }
    /// Sets the gradient to zero (keeps the buffer).
    public func zeroGrad() { gradBox?.zero() }
    /// Frees the gradient buffer.
    public func releaseGrad() { gradBox?.release() }

    public subscript(i: Int) -> Float {
        get { data[i] }
        set { data[i] = newValue }
    }

    /// Values as a Swift array (tests, I/O).
    public var array: [Float] { Array(buffer) }

    public var description: String {
        let head = buffer.prefix(8).map { String(format: "%.5g", $0) }.joined(separator: ", ")
        return "Tensor\(shape)[\(head)\(count > 8 ? ", ..." : "")]"
    }

    /// A detached copy (no gradient tracking).
    public func copy() -> Tensor {
        let t = Tensor(uninitialized: shape)
        t.data.update(from: data, count: count)
        return t
    }

    /// Overwrites the values from another tensor of the same count.
    public func assign(_ other: Tensor) {
        precondition(other.count == count, "assign: \(other.shape) into \(shape)")
        data.update(from: other.data, count: count)
    }

    // MARK: Factories

    /// Uniform values in [lo, hi) from `rng` (zeros inside `withoutRandomInit`).
    public static func uniform(_ shape: [Int], _ lo: Float, _ hi: Float, rng: inout SeededRNG,
                               requiresGrad: Bool = false) -> Tensor {
        let t = Tensor(zeros: shape, requiresGrad: requiresGrad)
        if skipsRandomInit { return t }
        for i in 0..<t.count { t.data[i] = lo + (hi - lo) * rng.nextFloat() }
        return t
    }

    /// Normal(0, std) values from `rng` (zeros inside `withoutRandomInit`).
    public static func normal(_ shape: [Int], std: Float, rng: inout SeededRNG, requiresGrad: Bool = false) -> Tensor {
        let t = Tensor(zeros: shape, requiresGrad: requiresGrad)
        if skipsRandomInit { return t }
        for i in 0..<t.count { t.data[i] = std * rng.nextGaussian() }
        return t
    }

    /// Runs `body` with the random factories returning zeros on this thread: for building a model whose
    /// every weight is loaded right after (drawing 22 M Gaussians for all-MiniLM-L6-v2 took half of a
    /// one-text `recalign encode`).
    public static func withoutRandomInit<T>(_ body: () throws -> T) rethrows -> T {
        try skipRandomMark.with(1, body)
    }

    static let skipRandomMark = ThreadWord()
    static var skipsRandomInit: Bool { skipRandomMark.value != 0 }

    /// A tensor filled with one value.
    public static func full(_ shape: [Int], _ value: Float) -> Tensor {
        let t = Tensor(uninitialized: shape)
        t.data.update(repeating: value, count: t.count)
        return t
    }
}
