// SocketHTTPTests: response framing of the socket client (length, chunked, 100 Continue, truncation).
import Foundation
import Testing
@testable import RecAlignRerank

@Suite struct SocketHTTPTests {
    func parse(_ s: String, complete: Bool = false) -> HTTPOutcome? { SocketHTTP.parse(Array(s.utf8), complete: complete) }

    func answered(_ o: HTTPOutcome?) -> (Int, String)? {
        if case let .answered(status, body)? = o { return (status, String(decoding: body, as: UTF8.self)) }
        return nil
    }

    @Test func contentLength() {
        #expect(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel") == nil)  // needs more bytes
        #expect(answered(parse("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello")).map { $0 == (200, "hello") } == true)
        if case .connection? = parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", complete: true) {} else {
            Issue.record("a truncated body is a connection error")
        }
    }

    @Test func chunkedBody() {
        let r = "HTTP/1.1 500 Internal\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nboom\r\n6;x=y\r\n, down\r\n0\r\n\r\n"
        #expect(answered(parse(r)).map { $0 == (500, "boom, down") } == true)
        #expect(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbo") == nil)
    }

    @Test func continueThenAnswerAndReadToClose() {
        let r = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"
        #expect(answered(parse(r)).map { $0 == (201, "ok") } == true)
        #expect(parse("HTTP/1.1 200 OK\r\n\r\npartial") == nil)
        #expect(answered(parse("HTTP/1.1 200 OK\r\n\r\nall of it", complete: true)).map { $0 == (200, "all of it") } == true)
        if case .connection? = parse("garbage\r\n\r\n") {} else { Issue.record("a non-HTTP answer is a connection error") }
    }
}
