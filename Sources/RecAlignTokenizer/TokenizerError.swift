// Errors thrown while loading a tokenizer; each names the file or folder and the problem.

import Foundation

/// A tokenizer could not be loaded.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// Neither tokenizer.json nor vocab.txt exists in the folder.
    case missingVocabulary(folder: String)
    /// The file exists but could not be read or parsed.
    case unreadable(file: String, reason: String)
    /// A field is missing or has the wrong type / value.
    case malformed(file: String, field: String, problem: String)
    /// The file describes a tokenizer this implementation does not reproduce.
    case unsupported(file: String, field: String, value: String)

    public var description: String {
        switch self {
        case .missingVocabulary(let folder):
            return "no tokenizer vocabulary in \(folder): expected tokenizer.json or vocab.txt"
        case .unreadable(let file, let reason):
            return "cannot read tokenizer file \(file): \(reason)"
        case .malformed(let file, let field, let problem):
            return "\(file): field `\(field)`: \(problem)"
        case .unsupported(let file, let field, let value):
            return "\(file): field `\(field)` = \(value) is not supported (only BERT WordPiece tokenizers are)"
        }
    }
}

extension TokenizerError: LocalizedError {
    public var errorDescription: String? { description }
}
