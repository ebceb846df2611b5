// Autograd: the tape that records each op's backward closure, replays it in reverse, and the no-grad mode.
import Foundation

/// Reverse-mode automatic differentiation over a global tape.
///
/// Every differentiable op checks `Autograd.needsGrad(inputs...)`; when true it creates its output with
/// `requiresGrad` and records a closure that reads the output's gradient and accumulates into the inputs'
/// gradients (`dX += ...`). `backward(loss)` seeds d(loss) = 1 and runs the closures newest first. In
/// no-grad mode nothing is recorded, so intermediates are freed as soon as they go out of scope.
///
/// The tape and the grad mode are per thread, so independent graphs (e.g. parallel tests) never mix.
public enum Autograd {
    /// Per-thread tape and grad mode.
    final class State {
        var tape: [() -> Void] = []
        var gradEnabled = true
    }

    static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k) { p in if let p { Unmanaged<AnyObject>.fromOpaque(UnsafeRawPointer(p)).release() } }
        return k
    }()

    @inline(__always) static var state: State {
        if let p = pthread_getspecific(key) { return Unmanaged<State>.fromOpaque(p).takeUnretainedValue() }
        let s = State()
        pthread_setspecific(key, Unmanaged.passRetained(s).toOpaque())
        return s
    }

    static var tape: [() -> Void] {
        get { state.tape }
        set { state.tape = newValue }
    }
    static var gradEnabled: Bool {
        get { state.gradEnabled }
        set { state.gradEnabled = newValue }
    }

    /// True when ops record onto the tape.
    public static var isGradEnabled: Bool { gradEnabled }
    /// Number of closures on the tape (tests check that no-grad mode records nothing).
    public static var recordedCount: Int { tape.count }

    /// Runs `body` with recording off (inference mode).
    public static func noGrad<T>(_ body: () throws -> T) rethrows -> T {
        let saved = gradEnabled
        gradEnabled = false
        defer { gradEnabled = saved }
        return try body()
    }

    /// True when recording is on and any input requires a gradient.
    @inline(__always)
    public static func needsGrad(_ inputs: Tensor?...) -> Bool {
        guard gradEnabled else { return false }
        for t in inputs where t?.requiresGrad == true { return true }
        return false
    }

    /// Records a backward closure.
    @inline(__always)
    public static func record(_ backward: @escaping () -> Void) { state.tape.append(backward) }

    /// Back-propagates from a scalar `loss` (seed 1, or `seed` when given), then clears the tape.
    public static func backward(_ loss: Tensor, seed: Float = 1) {
        precondition(loss.count == 1, "backward needs a scalar, got shape \(loss.shape)")
        precondition(loss.requiresGrad, "backward: the loss does not depend on any tensor that requires a gradient")
        loss.gradData[0] += seed
        let st = state
        let entries = st.tape
        st.tape.removeAll(keepingCapacity: true)
        for entry in entries.reversed() { entry() }
    }

    /// Removes and returns what the calling thread recorded, oldest first: a data-parallel worker hands
    /// its forward graph to the backward phase, which may run on another thread (see `replay`).
    public static func takeTape() -> [() -> Void] {
        let st = state
        let entries = st.tape
        st.tape.removeAll(keepingCapacity: true)
        return entries
    }

    /// Runs a taken tape newest first. The caller has first added d(output) into the gradients of the
    /// graph's outputs (`Tensor.gradData`), in the gradient slot the graph was recorded in.
    public static func replay(_ entries: [() -> Void]) {
        for entry in entries.reversed() { entry() }
    }

    /// Drops everything recorded (e.g. after a forward pass whose loss is not back-propagated).
    public static func clearTape() { state.tape.removeAll() }
}

/// The gradient side of a tensor without its values: what a backward closure keeps of an op's output
/// (it reads only d(output)) or of an input whose values the derivative does not use (it writes d(input)).
/// Holding a `GradRef` instead of the tensor lets the values be freed as soon as no later op needs them,
/// which is most of the activation memory of a training step with frozen weights.
public struct GradRef {
    let box: GradBox?
    let offset: Int
    /// Whether the tensor wanted a gradient when the op ran.
    public let requiresGrad: Bool
    public init(_ t: Tensor) { box = t.gradBox; offset = t.gradOffset; requiresGrad = t.requiresGrad }
    /// Pointer to the gradient, allocating it (only when `requiresGrad`).
    @inline(__always) public var data: UnsafeMutablePointer<Float> {
        guard let box else { fatalError("GradRef: the tensor has no gradient buffer") }
        return box.materialised.base + offset
    }
    /// Pointer to the gradient if one has flowed in (in the calling thread's slot), else nil.
    @inline(__always) public var ifPresent: UnsafeMutablePointer<Float>? {
        guard let box, let s = box.storage else { return nil }
        return s.base + offset
    }
    /// Runs `body` with the incoming gradient, then frees it; skips when none arrived.
    @inline(__always) public func withIncoming(_ body: (UnsafeMutablePointer<Float>) -> Void) {
        guard let g = ifPresent else { return }
        body(g)
        box?.release()
    }
}

extension Tensor {
    /// Pointer to the gradient if one has flowed into this tensor, else nil (its op can skip its backward).
    @inline(__always) var gradIfPresent: UnsafeMutablePointer<Float>? { GradRef(self).ifPresent }

    /// Output of an op: a fresh tensor that requires a gradient when `needsGrad`.
    @inline(__always)
    static func output(_ shape: [Int], grad needsGrad: Bool) -> Tensor {
        let t = Tensor(uninitialized: shape)
        if needsGrad { t.enableGrad() }
        return t
    }

    /// Frees an intermediate's gradient once its op has propagated it (all consumers ran before it).
    @inline(__always) func doneWithGrad() { gradBox?.release() }

    /// Runs `body` with this tensor's incoming gradient, then frees it; skips when no gradient arrived.
    @inline(__always)
    func withIncomingGrad(_ body: (UnsafeMutablePointer<Float>) -> Void) { GradRef(self).withIncoming(body) }
}

extension Tensor {
    /// Pointer to this tensor's gradient when one has been allocated (optimizers and clipping read it).
    public var gradIfAllocated: UnsafeMutablePointer<Float>? { gradIfPresent }
}
