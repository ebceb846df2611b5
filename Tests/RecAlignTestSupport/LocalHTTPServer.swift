// LocalHTTPServer: a tiny scripted HTTP/1.1 server on 127.0.0.1 (POSIX sockets) for the client and CLI tests.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Answers each request as a script says: a status and body after a delay, or a dropped connection.
/// One thread per connection; `Connection: close` on every answer. Stops on `stop()`.
public final class LocalHTTPServer: @unchecked Sendable {
    public enum Reply {
        case respond(status: Int, body: String, delay: Double)
        /// Close the connection without answering.
        case drop
    }

    /// One request as received.
    public struct Request {
        public var head: String
        public var body: String
    }

    public let port: UInt16
    private let fd: Int32
    private let lock = NSLock()
    private var received: [Request] = []
    private var running = true
    private let handler: @Sendable (Int, Request) -> Reply

    /// The base URL to give a client.
    public var url: URL { URL(string: "http://127.0.0.1:\(port)")! }
    public var requests: [Request] { lock.lock(); defer { lock.unlock() }; return received }

    /// `handler(i, request)` decides the reply to the i-th request (0-based, in arrival order).
    public init(handler: @escaping @Sendable (Int, Request) -> Reply) throws {
        self.handler = handler
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard ok == 0, listen(fd, 32) == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
        var bound = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        port = UInt16(bigEndian: bound.sin_port)
        self.fd = fd
        let t = Thread { [self] in acceptLoop() }
        t.start()
    }

    /// A port on which nothing listens (bound, then closed), for connection-refused tests.
    public static func deadPort() throws -> UInt16 {
        let s = try LocalHTTPServer { _, _ in .drop }
        let p = s.port
        s.stop()
        return p
    }

    public func stop() {
        lock.lock(); running = false; lock.unlock()
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }

    private var isRunning: Bool { lock.lock(); defer { lock.unlock() }; return running }

    private func acceptLoop() {
        while isRunning {
            let c = accept(fd, nil, nil)
            if c < 0 { if !isRunning { return }; continue }
            Thread { [self] in serve(c) }.start()
        }
    }

    private func serve(_ c: Int32) {
        defer { close(c) }
        var data = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 65536)
        var headEnd: Int?
        var contentLength = 0
        while true {
            let n = recv(c, &buf, buf.count, 0)
            if n <= 0 { return }
            data.append(contentsOf: buf[0..<n])
            if headEnd == nil, let r = find(data, [13, 10, 13, 10]) {
                headEnd = r + 4
                let head = String(decoding: data[0..<r], as: UTF8.self)
                for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                    contentLength = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
            if let h = headEnd, data.count >= h + contentLength { break }
        }
        let h = headEnd!
        let req = Request(head: String(decoding: data[0..<h], as: UTF8.self),
                          body: String(decoding: data[h..<(h + contentLength)], as: UTF8.self))
        lock.lock()
        let index = received.count
        received.append(req)
        lock.unlock()
        switch handler(index, req) {
        case .drop: return
        case let .respond(status, body, delay):
            if delay > 0 { Thread.sleep(forTimeInterval: delay) }
            let bytes = Array(body.utf8)
            let head = "HTTP/1.1 \(status) Scripted\r\nContent-Type: application/json\r\nContent-Length: \(bytes.count)\r\nConnection: close\r\n\r\n"
            let all = Array(head.utf8) + bytes
            var off = 0
            while off < all.count {
                let n = all[off...].withUnsafeBytes { send(c, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { return }  // the client gave up (timeout): fine
                off += n
            }
        }
    }

    private func find(_ hay: [UInt8], _ needle: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i..<(i + needle.count)].elementsEqual(needle) { return i }
        return nil
    }

    /// A chat-completions body whose first choice says `content`.
    public static func chatBody(_ content: String) -> String {
        let obj: [String: Any] = ["id": "x", "object": "chat.completion",
                                  "choices": [["index": 0, "message": ["role": "assistant", "content": content]]]]
        return String(decoding: try! JSONSerialization.data(withJSONObject: obj), as: UTF8.self)
    }
}
