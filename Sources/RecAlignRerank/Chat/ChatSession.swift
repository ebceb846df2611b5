// ChatSession: the conversation's state machine (the request, the last list, rejects, the dialogue); no I/O.
import Foundation

/// What the retriever is asked for on one turn: the request's text and the catalog items it names (both blended
/// with the user's vector by the caller), and the item rows never to show.
public struct ChatQuery: Equatable, Sendable {
    /// The request without its negated genres ("not in the mood for horror" leaves nothing); nil: the user's
    /// vector alone (the opening list).
    public var text: String?
    /// Item rows the request names ("like Heat" -> Heat's row).
    public var anchors: [Int]
    public var exclude: Set<Int>
}

/// What the caller does after a line.
public enum ChatStep: Equatable, Sendable {
    /// Retrieve, rerank and show a list; `note` is said first ("OK, not Heat from now on.").
    case recommend(ChatQuery, note: String?)
    /// Explain the item of this row.
    case explain(row: Int)
    /// Say this and wait for the next line.
    case say(String)
    case quit
}

/// Chat-REC's dialogue state. Each line becomes a `ChatStep`; the caller reports each list it showed
/// (`showed`) and each answer (`answered`), which the next prompts carry (`dialogue`). Items of the user's
/// history and rejected items are never recommended; "more" also skips what this request already showed.
public struct ChatSession: Sendable {
    public let catalog: MovieCatalog
    /// The user's items, oldest first (item rows).
    public let history: [Int]
    /// Rejected rows, in the order rejected.
    public private(set) var rejected: [Int] = []
    /// The last list shown, in order (what "no 2" and "why 2" refer to).
    public private(set) var shown: [Int] = []
    /// Every row shown since the current request began ("more" skips them).
    public private(set) var shownForRequest: Set<Int> = []
    /// The current request, read once (nil until the user asks for something).
    var current: CurrentRequest?
    /// The current request as typed.
    public var request: String? { current?.text }
    /// The turns so far, alternating user / assistant, for the prompts.
    public private(set) var dialogue: [ChatMessage] = []

    /// Rows by title: ml-100k lists some films twice under two ids, and a seen or rejected film is both.
    let rowsOfTitle: [String: [Int]]

    public init(catalog: MovieCatalog, history: [Int]) {
        self.catalog = catalog; self.history = history
        rowsOfTitle = Dictionary(grouping: 0..<catalog.count, by: { catalog.titles[$0] })
    }

    /// The rows sharing a title with any of `rows`.
    func twins<S: Sequence>(_ rows: S) -> Set<Int> where S.Element == Int {
        Set(rows.flatMap { rowsOfTitle[catalog.titles[$0]] ?? [$0] })
    }

    /// The opening list: the user's vector alone.
    public func opening() -> ChatStep { .recommend(query(skippingShown: false), note: nil) }

    /// The step one parsed line asks for (and the state it changes).
    public mutating func step(_ input: ChatInput) -> ChatStep {
        switch input {
        case .quit: return .quit
        case .help: return .say(ChatSession.help)
        case let .request(text):
            current = CurrentRequest(text, catalog: catalog)
            shownForRequest = []
            dialogue.append(ChatMessage(role: "user", content: text))
            return .recommend(query(skippingShown: false), note: nil)
        case .more:
            dialogue.append(ChatMessage(role: "user", content: "Show me other ones."))
            return .recommend(query(skippingShown: true), note: nil)
        case let .reject(targets, said):
            let rows: [Int]
            if targets.isEmpty {
                guard !shown.isEmpty else { return .say("There is no list to reject yet; ask for something.") }
                rows = shown
            } else {
                var found: [Int] = []
                for t in targets {
                    switch resolve(t) {
                    case let .success(r): found += r
                    case let .failure(message):
                        // "not in the mood for horror" names no title: a request, not a reject.
                        if case .text = t { return step(.request(said)) }
                        return .say(message.text)
                    }
                }
                rows = found
            }
            for r in rows where !rejected.contains(r) { rejected.append(r) }
            let names = rows.map { catalog.titles[$0] }.joined(separator: "; ")
            dialogue.append(ChatMessage(role: "user", content: "Not \(names): do not suggest \(rows.count == 1 ? "it" : "them") again."))
            // The list again without them: the other shown items stay, the next ones fill in.
            return .recommend(query(skippingShown: false), note: "OK, I will not suggest \(names) again.")
        case let .why(target):
            guard !shown.isEmpty || target != nil else { return .say("Nothing is shown yet; ask for something first.") }
            switch resolve(target ?? .position(1)) {
            case let .success(rows):
                dialogue.append(ChatMessage(role: "user", content: "Why \(catalog.titles[rows[0]])?"))
                return .explain(row: rows[0])
            case let .failure(message): return .say(message.text)
            }
        }
    }

    /// Records the list just shown.
    public mutating func showed(_ rows: [Int]) {
        shown = rows
        shownForRequest.formUnion(rows)
    }

    /// Records the assistant's words (the list and its explanations, or an explanation).
    public mutating func answered(_ text: String) {
        dialogue.append(ChatMessage(role: "assistant", content: text))
    }

    func query(skippingShown: Bool) -> ChatQuery {
        let anchors = current?.anchors ?? [], declined = current?.declined ?? []
        // Items the request names are the reference, not the answer ("like Heat" should not return Heat).
        var exclude = twins(history + rejected + anchors)
        if skippingShown { exclude.formUnion(twins(shownForRequest)) }
        if !declined.isEmpty {
            for r in 0..<catalog.count where catalog.genres[r].contains(where: declined.contains) { exclude.insert(r) }
        }
        return ChatQuery(text: current?.retrievalText, anchors: anchors, exclude: exclude)
    }

    struct Refusal: Error { var text: String }

    /// The rows a target means: a position in the last list, or the titles named (the last list first, then the
    /// catalog).
    func resolve(_ t: ChatInput.Target) -> Result<[Int], Refusal> {
        switch t {
        case let .position(p):
            guard p >= 1 && p <= shown.count else {
                return .failure(Refusal(text: shown.isEmpty ? "There is no list yet." : "The last list has items 1 to \(shown.count); there is no \(p)."))
            }
            return .success([shown[p - 1]])
        case let .text(s):
            let inShown = catalog.rowsNamed(in: s, among: shown)
            if !inShown.isEmpty { return .success(inShown) }
            let any = catalog.rowsNamed(in: s)
            return any.isEmpty ? .failure(Refusal(text: "I do not know a film called \"\(s)\" in this catalog.")) : .success([any[0]])
        }
    }

    /// A request and what is read from it once: the titles it names, the genres it declines, and the words the
    /// retriever encodes (the text outside the declining clauses; nil when nothing is left).
    struct CurrentRequest: Sendable {
        let text: String
        let anchors: [Int]
        let declined: [String]
        let retrievalText: String?
        init(_ text: String, catalog: MovieCatalog) {
            self.text = text
            anchors = catalog.rowsNamed(in: text)
            let split = RequestText.declinedGenres(text, genres: Set(catalog.genres.joined()))
            declined = split.declined
            retrievalText = split.rest.isEmpty ? nil : split.rest
        }
    }

    public static let help = """
    Type what you are in the mood for ("like Heat, but lighter"), or:
      more          other items for the same request
      no 2 / not Heat   never suggest that item again (no: the whole list)
      why 2         why item 2 of the list fits you
      quit / Ctrl-D end the conversation
    """
}
