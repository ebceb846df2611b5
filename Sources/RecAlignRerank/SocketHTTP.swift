// SocketHTTP: a minimal blocking HTTP/1.1 POST over POSIX sockets for plain `http://` servers, because
// FoundationNetworking's URLSession (libcurl 7.88 here) spins a core while it waits for a slow answer.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Outcome of one POST: a status and body, no answer in time, or a connection problem.
enum HTTPOutcome: Sendable {
    case answered(status: Int, body: Data)
    case timeout
    case connection(String)
}

/// One-shot HTTP/1.1 POST with `Connection: close`, a deadline over connect + send + receive (poll(2)),
/// and Content-Length, chunked or read-to-close bodies. Runs on its own thread, so the waiting costs
/// no CPU and never blocks Swift's cooperative pool.
enum SocketHTTP {
    static func post(url: URL, headers: [(String, String)], body: Data, timeout: Double) async -> HTTPOutcome {
        await withCheckedContinuation { (cont: CheckedContinuation<HTTPOutcome, Never>) in
            let t = Thread { cont.resume(returning: postBlocking(url: url, headers: headers, body: body, timeout: timeout)) }
            t.stackSize = 1 << 20
            t.start()
        }
    }

    static func postBlocking(url: URL, headers: [(String, String)], body: Data, timeout: Double) -> HTTPOutcome {
        let deadline = Date().addingTimeInterval(timeout)
        guard let host = url.host else { return .connection("no host in \(url)") }
        let port = url.port ?? 80
        var path = url.path.isEmpty ? "/" : url.path
        if let q = url.query { path += "?" + q }

        // Resolve and connect (non-blocking connect bounded by the deadline).
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var res: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &res)
        guard rc == 0, let first = res else { return .connection("cannot resolve \(host): \(String(cString: gai_strerror(rc)))") }
        defer { freeaddrinfo(first) }
        var fd: Int32 = -1
        var lastError = "no address"
        var ai: UnsafeMutablePointer<addrinfo>? = first
        while let a = ai {
            let s = socket(a.pointee.ai_family, a.pointee.ai_socktype, a.pointee.ai_protocol)
            if s >= 0 {
                switch connectWithDeadline(s, a.pointee.ai_addr, a.pointee.ai_addrlen, deadline) {
                case .none: fd = s
                case let .some(err):
                    close(s)
                    if err == ETIMEDOUT { return .timeout }
                    lastError = String(cString: strerror(err))
                }
            }
            if fd >= 0 { break }
            ai = a.pointee.ai_next
        }
        guard fd >= 0 else { return .connection("cannot connect to \(host):\(port): \(lastError)") }
        defer { close(fd) }

        var head = "POST \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        head += "\r\n"
        let request = Array(head.utf8) + Array(body)
        var off = 0
        while off < request.count {
            guard wait(fd, Int16(POLLOUT), deadline) else { return .timeout }
            let n = request[off...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return .connection("send: \(String(cString: strerror(errno)))")
            }
            off += n
        }

        // Read until the body is complete (Content-Length / chunked) or the server closes.
        var data = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            if let done = parse(data, complete: false) { return done }
            guard wait(fd, Int16(POLLIN), deadline) else { return .timeout }
            let n = recv(fd, &buf, buf.count, 0)
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return .connection("recv: \(String(cString: strerror(errno)))")
            }
            if n == 0 {
                return parse(data, complete: true) ?? .connection("the server closed the connection without an answer")
            }
            data.append(contentsOf: buf[0..<n])
        }
    }

    /// nil when connected, else the errno.
    static func connectWithDeadline(_ s: Int32, _ addr: UnsafeMutablePointer<sockaddr>?, _ len: socklen_t, _ deadline: Date) -> Int32? {
        let flags = fcntl(s, F_GETFL, 0)
        _ = fcntl(s, F_SETFL, flags | O_NONBLOCK)
        if connect(s, addr, len) != 0 {
            if errno != EINPROGRESS { return errno }
            guard wait(s, Int16(POLLOUT), deadline) else { return ETIMEDOUT }
            var err: Int32 = 0
            var l = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &l)
            if err != 0 { return err }
        }
        _ = fcntl(s, F_SETFL, flags)
        return nil
    }

    /// Waits for `events` until the deadline; false on timeout.
    static func wait(_ fd: Int32, _ events: Int16, _ deadline: Date) -> Bool {
        while true {
            let ms = Int32(max(0, min(deadline.timeIntervalSinceNow * 1000, 3_600_000)).rounded(.up))
            if ms <= 0 { return false }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let r = poll(&p, 1, ms)
            if r > 0 { return true }
            if r == 0 { return false }
            if errno != EINTR { return true }  // let the following call report the error
        }
    }

    /// A complete response from the bytes so far, or nil if more are needed. With `complete` (the peer
    /// closed), a body without a length ends here.
    static func parse(_ data: [UInt8], complete: Bool) -> HTTPOutcome? {
        guard let headEnd = find(data, [13, 10, 13, 10]) else {
            return complete && !data.isEmpty ? .connection("truncated HTTP header") : nil
        }
        let head = String(decoding: data[0..<headEnd], as: UTF8.self)
        let lines = head.components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/"), let status = Int(statusParts[1]) else {
            return .connection("not an HTTP answer: \(lines[0].prefix(80))")
        }
        var length: Int?
        var chunked = false
        for l in lines.dropFirst() {
            guard let colon = l.firstIndex(of: ":") else { continue }
            let name = l[..<colon].lowercased()
            let value = l[l.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name == "content-length" { length = Int(value) }
            if name == "transfer-encoding" && value.lowercased().contains("chunked") { chunked = true }
        }
        let bodyStart = headEnd + 4
        if status == 100 {  // "100 Continue": drop it and read on
            return parse(Array(data[bodyStart...]), complete: complete)
        }
        if chunked {
            var i = bodyStart
            var body = [UInt8]()
            while true {
                guard let lineEnd = find(data, [13, 10], from: i) else { return complete ? .connection("truncated chunk") : nil }
                let sizeText = String(decoding: data[i..<lineEnd], as: UTF8.self).split(separator: ";")[0]
                guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
                    return .connection("bad chunk size")
                }
                if size == 0 { return .answered(status: status, body: Data(body)) }
                let start = lineEnd + 2
                guard data.count >= start + size + 2 else { return complete ? .connection("truncated chunk") : nil }
                body.append(contentsOf: data[start..<(start + size)])
                i = start + size + 2
            }
        }
        if let n = length {
            guard data.count >= bodyStart + n else { return complete ? .connection("truncated body") : nil }
            return .answered(status: status, body: Data(data[bodyStart..<(bodyStart + n)]))
        }
        return complete ? .answered(status: status, body: Data(data[bodyStart...])) : nil
    }

    static func find(_ hay: [UInt8], _ needle: [UInt8], from: Int = 0) -> Int? {
        guard hay.count >= needle.count + from else { return nil }
        var i = from
        while i <= hay.count - needle.count {
            if hay[i] == needle[0] && hay[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
