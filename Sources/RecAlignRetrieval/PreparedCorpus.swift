// PreparedCorpus: a corpus loaded and split per the protocol, with its item texts — what every command starts from.
import Foundation
import RecAlignData

/// A loaded corpus, its protocol split (warm + cold) and one text per item row.
public struct PreparedCorpus: Sendable {
    public let path: String
    public let dataset: Dataset
    public let split: Split
    public let itemTexts: [String]

    /// Loads `path` (RecBole folder, MovieLens folder or JSONL), splits it, builds item texts with
    /// `template` (default: chosen from the corpus's fields; ml-100k: "{title} ({year}) {genres}"). A corpus
    /// without an item file, or an item whose text comes out empty, is refused (naming the item and the
    /// fields), unless `itemIdAsText`: then such an item is named by its id.
    public static func load(path: String, skipBadLines: Bool = false, itemIdAsText: Bool = false,
                            template: ItemTextTemplate? = nil) throws -> PreparedCorpus {
        let dataset = try CorpusLoader.load(path: path, options: LoadOptions(skipBadLines: skipBadLines, itemIdAsText: itemIdAsText))
        if dataset.itemSource == nil && !itemIdAsText {
            throw DataError.invalid("\(path): the corpus has no item file (<name>.item, u.item or items.jsonl), so every item "
                + "text would be empty; add one, or pass --item-id-as-text to use each item's id as its text")
        }
        let split = try Split(dataset: dataset)
        let tmpl = template ?? ItemTextTemplate.default(for: dataset)
        var texts = tmpl.itemTexts(dataset)
        for r in texts.indices where texts[r].isEmpty {
            guard itemIdAsText else {
                throw DataError.invalid("\(path): item '\(dataset.itemIds[r])' has an empty text (fields "
                    + tmpl.parts.map(\.field).joined(separator: ", ") + " are empty); fill them, or pass --item-id-as-text")
            }
            texts[r] = dataset.itemIds[r]
        }
        return PreparedCorpus(path: path, dataset: dataset, split: split, itemTexts: texts)
    }

    public var itemCount: Int { split.itemIds.count }

    /// Visible histories (item rows, oldest first) of `users` at a stage and setting.
    public func histories(_ users: [Int32], _ stage: EvalStage, _ setting: EvalSetting) -> [[Int]] {
        users.map { split.history(user: Int($0), stage: stage, setting: setting).map(Int.init) }
    }

    /// Targets and exclusion lists of `users` at a stage.
    public func targetsAndExclusions(_ users: [Int32], _ stage: EvalStage) -> (targets: [Int], exclude: [[Int32]]) {
        (users.map { Int(split.target(user: Int($0), stage: stage).itemRow) },
         users.map { split.exclusions(user: Int($0), stage: stage) })
    }

    /// Every user's train sequence of a setting (the input of collaborative baselines).
    public func trainHistories(_ setting: EvalSetting) -> [[Int]] {
        let s = split.trainSequences(setting)
        return (0..<s.userCount).map { s.items(ofUser: $0).map(Int.init) }
    }
}
