// ExtraBody: request fields given on the command line (--extra-body), parsed into the shared JSON tree.
import Foundation
import RecAlignFormats

extension JSONValue {
    /// Parses a JSON object's text, e.g. `{"repeat_penalty": 1.3}` (for `ChatClientConfig.extraBody`);
    /// any other JSON, or text that is not JSON, throws `ChatClientError`.
    public static func object(from text: String) throws -> [String: JSONValue] {
        guard let value = try? JSONValue.parse(Data(text.utf8)), let object = value.objectValue else {
            throw ChatClientError.badResponse("not a JSON object: \(text)")
        }
        return object
    }
}
