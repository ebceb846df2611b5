// ModuleBase: the Module type whose stored properties mirror HF submodules; parameters are found by name.
import RecAlignTensor

/// A layer or model. Stored properties that are `Tensor`s are its parameters, those that are `Module`s
/// (or arrays of them) its children; their dotted paths are the Hugging Face weight names
/// (`encoder.layer.0.attention.self.query.weight`). A subclass renames a property's key by overriding
/// `key(for:)` (e.g. a Swift property `selfAttention` is HF's `self`).
open class Module {
    /// Dropout and other train-only behaviour is on when true.
    public private(set) var training = false

    public init() {}

    /// HF key of the stored property `label`; override to rename.
    open func key(for label: String) -> String { label }

    /// Direct parameters and children, in declaration order.
    public func items() -> (params: [(String, Tensor)], children: [(String, Module)]) {
        var params: [(String, Tensor)] = [], children: [(String, Module)] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        var levels: [Mirror] = []
        while let m = mirror { levels.append(m); mirror = m.superclassMirror }
        for m in levels.reversed() {
            for child in m.children {
                guard let label = child.label else { continue }
                let k = key(for: label)
                switch child.value {
                case let t as Tensor: params.append((k, t))
                case let t as Tensor?: if let t { params.append((k, t)) }
                case let mod as Module: children.append((k, mod))
                case let mod as Module?: if let mod { children.append((k, mod)) }
                case let mods as [Module]: for (i, mod) in mods.enumerated() { children.append(("\(k).\(i)", mod)) }
                default: break
                }
            }
        }
        return (params, children)
    }

    /// Every parameter with its dotted name, depth first.
    public func namedParameters(prefix: String = "") -> [(name: String, tensor: Tensor)] {
        let (params, children) = items()
        var out = params.map { (name: prefix + $0.0, tensor: $0.1) }
        for (k, c) in children { out += c.namedParameters(prefix: prefix + k + ".") }
        return out
    }

    /// Parameters that currently receive gradients.
    public func trainableParameters() -> [(name: String, tensor: Tensor)] {
        namedParameters().filter { $0.tensor.requiresGrad }
    }

    /// Every module below (and including) this one.
    public func modules() -> [Module] {
        [self] + items().children.flatMap { $0.1.modules() }
    }

    /// Turns training mode on or off for this module and every child.
    public func train(_ on: Bool = true) {
        for m in modules() { m.training = on }
    }

    /// Freezes every parameter: no gradient buffers, no backward work for them.
    public func freeze() { for p in namedParameters() { p.tensor.freeze() } }
    /// Makes every parameter trainable.
    public func unfreeze() { for p in namedParameters() { p.tensor.enableGrad() } }

    /// Number of scalar parameters.
    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.tensor.count } }

    /// Sets every parameter's gradient to zero.
    public func zeroGrad() { for p in namedParameters() { p.tensor.zeroGrad() } }
}
