// DefaultTemplates: the built-in Chat-REC and Liu et al. prompts (paraphrased from the papers' designs).
import Foundation

/// Which prompt family a run uses.
public enum PromptKind: String, CaseIterable, Sendable {
    /// Chat-REC (Gao et al., arXiv 2303.14524): profile + history + candidate set, rerank and return top N.
    case chatrec
    /// Liu et al., "Is ChatGPT a Good Recommender?" (arXiv 2304.10149), zero-shot.
    case liuZero = "liu-zero"
    /// Liu et al., few-shot: demonstrations from other users are injected before the question.
    case liuFew = "liu-few"
}

/// The recommendation task phrased by a Liu et al. prompt.
public enum LiuTask: String, CaseIterable, Sendable {
    /// Next-item prediction from the chronological history.
    case sequential
    /// Pick the items the user will like from a candidate list.
    case direct
}

/// Built-in templates; `--template FILE` replaces them.
public enum DefaultTemplates {
    /// Chat-REC: the user profile and history are turned into text, the retriever's candidates are
    /// listed with their ids, and the model reranks them.
    public static let chatRec = PromptTemplate(
        system: "You are a recommender system. You rerank candidate items for a user and answer only with candidate ids.",
        user: """
        I want you to recommend items to a user based on the user's profile and interaction history.
        User profile: {profile}
        The user has interacted with the following {history_count} items, oldest first, most recent last:
        {history}
        Here are {k} candidate items proposed by a retrieval model, each with its id in brackets:
        {candidates}
        Based on the information above, rerank the candidates by how likely the user is to interact with each of them next, and return the top {n}.
        Answer with a JSON list of the {n} candidate ids, most likely first, and nothing else.
        """)

    /// Liu et al.'s three parts: task description, behaviour injection (history, and demonstrations for
    /// few-shot), format indicator. Sequential recommendation with a candidate list.
    public static let liuSequential = PromptTemplate(
        system: "",
        user: """
        Requirements: you must choose {n} items for recommendation from the candidate list and sort them in order of priority, from highest to lowest. Output format: a JSON list of candidate ids. Do not explain the reason or include any other words.

        {demonstrations}The user has interacted with the following items in chronological order: {history_list}. Which items from the candidate list is the user most likely to interact with next?
        Candidates:
        {candidates}
        """,
        demo: """
        Example {index}: a user interacted with the following items in chronological order: {history_list}. The next item that user interacted with was: {target}.
        """)

    /// Liu et al., direct recommendation: choose from the candidate list the items the user will like.
    public static let liuDirect = PromptTemplate(
        system: "",
        user: """
        Requirements: you must choose {n} items for recommendation from the candidate list and sort them in order of priority, from highest to lowest. Output format: a JSON list of candidate ids. Do not explain the reason or include any other words.

        {demonstrations}The user has interacted with the following items: {history_list}. Which items from the candidate list should be recommended to this user?
        Candidates:
        {candidates}
        """,
        demo: """
        Example {index}: a user interacted with the following items: {history_list}. An item recommended to that user, which the user then chose, was: {target}.
        """)

    /// Pointwise: one question per candidate, answered Yes or No; the score is the first answer token's
    /// log P(Yes) - log P(No). The candidate comes last, so every question of a user shares the prefix the
    /// server's prompt cache keeps.
    public static let pointwise = PromptTemplate(
        system: "You are a recommender system. You answer only Yes or No.",
        user: """
        A user has watched the following {history_count} movies, oldest first, most recent last:
        {history}
        Will the user watch the following movie next? Answer Yes or No.
        Movie: {candidate}
        """)

    /// The built-in template for a prompt kind and task.
    public static func template(kind: PromptKind, task: LiuTask) -> PromptTemplate {
        switch kind {
        case .chatrec: return chatRec
        case .liuZero, .liuFew: return task == .sequential ? liuSequential : liuDirect
        }
    }
}
