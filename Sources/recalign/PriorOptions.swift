// PriorOptions: the text popularity prior's switch, weight and counts, shared by evaluate, train and export.
import ArgumentParser
import RecAlignData
import RecAlignRetrieval

/// `--prior` adds the text popularity prior (`TextPopularityPrior`: item popularity predicted from item text, so
/// cold items get one too) to the cosine; `--prior-weight` and `--prior-recent` say how much and from which counts.
struct PriorOptions: ParsableArguments {
    @Flag(help: "Add the text popularity prior to the cosine: a softmax over item embeddings fitted to the train counts (λ by cross-validation over items).")
    var prior = false
    @Option(help: "The prior's weight against the cosine (default 1/20, MNRL's 1/scale: its logits in cosine units).")
    var priorWeight: Double?
    @Option(help: "Fit the prior to each user's last N train interactions only (0: all), the popularity of what users turn to last.")
    var priorRecent: Int = 0

    func validate() throws {
        if let w = priorWeight, !(w > 0 && w.isFinite) { throw ValidationError("--prior-weight must be a positive number") }
        if priorRecent < 0 { throw ValidationError("--prior-recent must be >= 0") }
        if !prior && (priorWeight != nil || priorRecent != 0) {
            throw ValidationError("--prior-weight and --prior-recent apply with --prior")
        }
    }

    /// The weight, or nil without `--prior`; `fallback` when no `--prior-weight` was given.
    func weight(fallback: Double = PriorTarget.defaultWeight) -> Double? { prior ? priorWeight ?? fallback : nil }

    /// The prior's target for one split and setting, or nil without `--prior`.
    func target(split: Split, setting: EvalSetting, fallback: Double = PriorTarget.defaultWeight) -> PriorTarget? {
        weight(fallback: fallback).map { PriorTarget(split: split, setting: setting, weight: $0, recent: priorRecent) }
    }
}
