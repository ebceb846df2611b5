// HTTPPost: one POST with a deadline over async-http-client (event-loop waiting: no CPU, no thread per request).
import Foundation
import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// Outcome of one POST: a status and body, no answer in time, or a connection problem.
enum HTTPOutcome: Sendable {
    case answered(status: Int, body: Data)
    case timeout
    case connection(String)
}

/// POSTs through one process-wide client (pooled connections, TLS for `https://`). A waiting request parks on
/// an event loop, so a server that takes minutes costs no CPU (URLSession on Linux busy-polls about a core) and
/// many requests in flight need no thread each. The deadline covers connect, send and the whole body (the
/// client's own deadline stops at the response head); a refused connection fails at once rather than being
/// retried until the deadline.
enum HTTPPost {
    /// Largest answer body read (a chat completion is a few KB).
    static let maxBody = 16 << 20

    static let client: HTTPClient = {
        var c = HTTPClient.Configuration()
        c.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: c)
    }()

    static func post(url: URL, headers: [(String, String)], body: Data, timeout: Double) async -> HTTPOutcome {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let nanoseconds = UInt64(max(timeout, 0) * 1e9)
        // The request races a timer; the loser is cancelled (cancelling the request closes its connection).
        return await withTaskGroup(of: HTTPOutcome?.self) { group in
            group.addTask {
                do {
                    let response = try await client.execute(request, timeout: .nanoseconds(Int64(nanoseconds) + 1_000_000_000))
                    let buffer = try await response.body.collect(upTo: maxBody)
                    return .answered(status: Int(response.status.code), body: Data(buffer.readableBytesView))
                } catch {
                    return Task.isCancelled ? nil : .connection(describe(error))
                }
            }
            group.addTask {
                try? await Task.sleep(nanoseconds: nanoseconds)
                return .timeout
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .timeout
        }
    }

    /// One line for a failed request (NIO's errors print their whole structure).
    static func describe(_ error: Error) -> String {
        if let e = error as? HTTPClientError { return "\(e)" }
        let text = "\(error)"
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
        return text.count > 300 ? String(text.prefix(300)) + "..." : text
    }
}
