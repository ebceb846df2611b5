// EventStream: server-sent events (`data:` lines) as they arrive, for streamed chat completions.
import Foundation
import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// Splits a byte stream into the payloads of its `data:` lines (the SSE format OpenAI-compatible servers
/// stream with): bytes may arrive cut anywhere, `\r\n` or `\n` ends a line, other fields and comments are
/// skipped. A line longer than `maxLine` bytes is dropped (a stream cannot grow memory without bound).
public struct EventStreamDecoder: Sendable {
    var pending: [UInt8] = []
    var overflow = false
    public static let maxLine = 1 << 20

    public init() {}

    /// The payloads completed by `bytes`.
    public mutating func feed<S: Sequence>(_ bytes: S) -> [String] where S.Element == UInt8 {
        var out: [String] = []
        for b in bytes {
            if b == UInt8(ascii: "\n") {
                if !overflow, let p = EventStreamDecoder.payload(pending) { out.append(p) }
                pending.removeAll(keepingCapacity: true)
                overflow = false
            } else if pending.count < EventStreamDecoder.maxLine {
                pending.append(b)
            } else {
                overflow = true
            }
        }
        return out
    }

    /// The payload of an unterminated last line.
    public mutating func finish() -> [String] {
        defer { pending.removeAll() }
        return overflow ? [] : EventStreamDecoder.payload(pending).map { [$0] } ?? []
    }

    static func payload(_ line: [UInt8]) -> String? {
        var l = line[...]
        if l.last == UInt8(ascii: "\r") { l = l.dropLast() }
        let prefix = Array("data:".utf8)
        guard l.starts(with: prefix) else { return nil }
        l = l.dropFirst(prefix.count)
        if l.first == UInt8(ascii: " ") { l = l.dropFirst() }
        return String(decoding: l, as: UTF8.self)
    }
}

/// The status and, for a non-2xx answer, the body (at most 64 KB).
struct EventStreamResult: Sendable { var status: Int; var errorBody: Data }

/// async-http-client delegate feeding a 2xx body to an `EventStreamDecoder` and each payload to `onEvent`.
final class EventStreamDelegate: HTTPClientResponseDelegate, @unchecked Sendable {
    typealias Response = EventStreamResult
    let onEvent: @Sendable (String) -> Void
    var status = 0
    var decoder = EventStreamDecoder()
    var errorBody = Data()

    init(onEvent: @escaping @Sendable (String) -> Void) { self.onEvent = onEvent }

    func didReceiveHead(task: HTTPClient.Task<Response>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        status = Int(head.status.code)
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Response>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        if (200..<300).contains(status) {
            for p in decoder.feed(buffer.readableBytesView) { onEvent(p) }
        } else if errorBody.count < 1 << 16 {
            errorBody.append(contentsOf: buffer.readableBytesView.prefix((1 << 16) - errorBody.count))
        }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<Response>) throws -> Response {
        if (200..<300).contains(status) { for p in decoder.finish() { onEvent(p) } }
        return EventStreamResult(status: status, errorBody: errorBody)
    }
}
