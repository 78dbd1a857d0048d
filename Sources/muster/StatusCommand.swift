import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `muster status`: what each process's `/readyz` says, one line each — the broker (its
/// `--metrics` port), the centre's screen (`muster web`) and any adapter run with `--health`.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Ask the broker, the screen and adapters whether they are ready (their /readyz).",
        discussion: """
            Exit codes: 0 every one asked is ready; 1 some answered unready; 69 some did not answer.
            """)

    @Option(help: "The broker's health port (muster broker --metrics).") var broker = "127.0.0.1:9400"
    @Option(help: "muster web's address; \"\" to skip it.") var web = "127.0.0.1:8800"
    @Option(help: "An adapter's health port (muster adapter --health); repeat for each.") var adapter: [String] = []
    @Flag(help: "Print each answer as JSON lines.") var json = false

    func run() async throws {
        let targets = [("broker", broker), ("web", web)].filter { !$0.1.isEmpty } + adapter.map { ("adapter", $0) }
        var worst = 0
        for (kind, address) in targets {
            let (status, doc) = await Self.readyz(address)
            if json {
                var line = doc
                line["target"] = kind; line["address"] = address; line["http_status"] = status
                let data = (try? JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])) ?? Data()
                print(String(decoding: data, as: UTF8.self))
            } else {
                print(Self.line(kind, address, status, doc))
            }
            worst = max(worst, status == 200 ? 0 : status == 0 ? 69 : 1)
        }
        if worst != 0 { throw ExitCode(Int32(worst)) }
    }

    static func readyz(_ address: String) async -> (Int, [String: Any]) {
        guard let url = URL(string: "http://\(address)/readyz") else { return (0, ["error": "not HOST:PORT"]) }
        var request = URLRequest(url: url, timeoutInterval: 5)
        request.httpMethod = "GET"
        guard let (data, response) = try? await URLSession(configuration: .ephemeral).data(for: request) else {
            return (0, ["error": "no answer"])
        }
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
    }

    /// "broker   127.0.0.1:9400   ready     commits 12 · last commit 3s ago".
    static func line(_ kind: String, _ address: String, _ status: Int, _ d: [String: Any]) -> String {
        let state = status == 0 ? "无应答 no answer" : status == 200 ? "就绪 ready" : "未就绪 unready"
        var facts: [String] = []
        if let c = d["commits"] { facts.append("commits \(c)") }
        if let f = d["commit_failures"] as? Int, f > 0 { facts.append("commit failures \(f)") }
        if let a = d["last_commit_age_s"] { facts.append("last commit \(a)s ago") }
        if let s = d["broker_session"] { facts.append("broker \(s)") }
        if let e = d["event_seq"] { facts.append("event #\(e)") }
        facts += (d["reasons"] as? [String]) ?? []
        if let e = d["error"] as? String, status == 0 { facts.append(e) }
        return "\(kind.padding(toLength: 8, withPad: " ", startingAt: 0)) \(address.padding(toLength: 21, withPad: " ", startingAt: 0)) \(state.padding(toLength: 16, withPad: " ", startingAt: 0)) \(facts.joined(separator: " · "))"
    }
}
