import Foundation
import MusterWire

/// libFuzzer target for the frame and JSON decoding: whatever bytes a peer sends must give a
/// value or a precise error, never a crash. The input is split into frames at 0xFF bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWire(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let frames = bytes.split(separator: 0xFF, maxSplits: 3, omittingEmptySubsequences: false).map(Array.init)
    if case .success(let env) = Envelope.parse(frames) {
        switch env.command {
        case .submit: _ = BodyDecoder.decode(Submit.self, from: env.body)
        case .hello: _ = BodyDecoder.decode(Hello.self, from: env.body)
        case .ack: _ = BodyDecoder.decode(Ack.self, from: env.body)
        case .resolve: _ = BodyDecoder.decode(Resolve.self, from: env.body)
        case .verify: _ = BodyDecoder.decode(Verify.self, from: env.body)
        case .evaluate: _ = BodyDecoder.decode(Evaluate.self, from: env.body)
        case .extend: _ = BodyDecoder.decode(Extend.self, from: env.body)
        case .backlog: _ = BodyDecoder.decode(Backlog.self, from: env.body)
        case .received: _ = BodyDecoder.decodePlain(Received.self, from: env.body)
        default: _ = BodyDecoder.decode(Query.self, from: env.body)
        }
        _ = JSONSpan.value(of: "case", in: env.body)
        _ = PersonalData.reporterShown(in: env.body, reveal: false)
    }
    _ = BodyDecoder.requestID(in: bytes)
    return 0
}

#if !FUZZING
/// Without libFuzzer (an ordinary build): replays corpus files, so that every input that once
/// crashed stays a test (`make test` runs it on Fuzz/corpus/wire).
@main struct Replay {
    static func main() throws {
        var n = 0
        for path in CommandLine.arguments.dropFirst() {
            for file in (try? FileManager.default.contentsOfDirectory(atPath: path).map { "\(path)/\($0)" }) ?? [path] {
                let data = try Data(contentsOf: URL(fileURLWithPath: file))
                _ = data.withUnsafeBytes { fuzzWire($0.bindMemory(to: UInt8.self).baseAddress ?? UnsafePointer(bitPattern: 1)!, data.count) }
                n += 1
            }
        }
        print("FuzzWire: replayed \(n) inputs, no crash")
    }
}
#endif
