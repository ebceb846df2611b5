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
        await execute(url: url, headers: headers, body: body, timeout: timeout,
                      delegate: { ResponseAccumulator(request: $0, maxBodySize: maxBody) }) { response in
            .answered(status: Int(response.status.code), body: Data(response.body.map { Array($0.readableBytesView) } ?? []))
        }
    }

    /// A POST whose answer is server-sent events: each `data:` payload goes to `onEvent` as it arrives (on an
    /// event loop). A 2xx answer gives an empty body; any other status the body read (for the error message).
    static func stream(url: URL, headers: [(String, String)], body: Data, timeout: Double,
                       onEvent: @escaping @Sendable (String) -> Void) async -> HTTPOutcome {
        await execute(url: url, headers: headers, body: body, timeout: timeout,
                      delegate: { _ in EventStreamDelegate(onEvent: onEvent) }) { .answered(status: $0.status, body: $0.errorBody) }
    }

    /// Runs a request through `delegate`, racing a timer; `map` turns the delegate's result into the outcome.
    static func execute<D: HTTPClientResponseDelegate>(url: URL, headers: [(String, String)], body: Data, timeout: Double,
                                                       delegate make: (HTTPClient.Request) -> D,
                                                       map: @escaping @Sendable (D.Response) -> HTTPOutcome) async -> HTTPOutcome
        where D.Response: Sendable {
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(url: url.absoluteString, method: .POST, headers: HTTPHeaders(headers),
                                             body: .byteBuffer(ByteBuffer(bytes: body)))
        } catch {
            return .connection(describe(error))
        }
        // The answer and a timer race on one event loop, so the outcome is decided there (a busy Swift
        // concurrency pool cannot let a late answer beat the deadline); the loser is cancelled.
        let loop = client.eventLoopGroup.next()
        let outcome = loop.makePromise(of: HTTPOutcome.self)
        let decided = LoopFlag()   // touched on `loop` only
        let task = client.execute(request: request, delegate: make(request), eventLoop: .delegate(on: loop))
        let timer = loop.scheduleTask(in: .nanoseconds(Int64(max(timeout, 0) * 1e9))) {
            guard decided.claim() else { return }
            outcome.succeed(.timeout)
            task.cancel()
        }
        task.futureResult.hop(to: loop).whenComplete { result in
            timer.cancel()
            guard decided.claim() else { return }
            switch result {
            case let .success(response): outcome.succeed(map(response))
            case let .failure(error): outcome.succeed(.connection(describe(error)))
            }
        }
        return (try? await outcome.futureResult.get()) ?? .timeout
    }

    /// One line for a failed request (NIO's errors print their whole structure).
    static func describe(_ error: Error) -> String {
        if let e = error as? HTTPClientError { return "\(e)" }
        let text = "\(error)"
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
        return text.count > 300 ? String(text.prefix(300)) + "..." : text
    }
}

/// A flag set once, by whichever of two callbacks on the same event loop comes first.
private final class LoopFlag: @unchecked Sendable {
    private var set = false
    func claim() -> Bool { if set { return false }; set = true; return true }
}
