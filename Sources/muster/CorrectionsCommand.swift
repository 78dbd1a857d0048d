import ArgumentParser
import Foundation
import MusterConfig
import MusterCore
import MusterStore

/// `muster corrections`: the dispatcher's corrections as candidate training examples. Each case
/// the centre routed by hand (ASSIGN) is printed as a labelled line of the `muster classify
/// --eval` format — the category guessed from the department the centre chose — under a comment
/// saying what the classifier had thought; the centre checks the label and adds the text to
/// config/classifier (docs/CLASSIFIER.md, "Adding examples").
struct CorrectionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corrections",
        abstract: "List the dispatcher's corrections (cases routed by hand) as candidate classifier examples.")

    @Option(help: "The broker's config file (for the database path and the categories).") var config = "config/muster.yaml"
    @Option(help: "The SQLite database (overrides the config).") var db: String?
    @Option(help: "Only corrections on or after this day (YYYY-MM-DD, Beijing time).") var since: String?

    func run() throws {
        let cfg: BrokerConfig
        do { cfg = try BrokerConfig.load(config, insecure: true) } catch { throw CLIError("\(error)") }
        let path = db ?? cfg.databasePath
        guard FileManager.default.fileExists(atPath: path) else { throw CLIError("no database at \(path)") }
        var from: Date?
        if let since {
            guard let day = CivilDay(since) else { throw CLIError("--since \(since): not a day YYYY-MM-DD") }
            from = day.start
        }
        let routing = cfg.rules.routing
        let list = try Store(path: path).corrections(since: from)
        print("# \(list.count) correction(s) — category<TAB>text, for config/classifier once checked")
        for c in list {
            let thought = c.suggestions.isEmpty
                ? (c.category == Routing.unclassified ? "unclassified" : "routed as \(c.category)")
                : "suggested " + c.suggestions.map { "\($0.category) \(String(format: "%.2f", $0.confidence))" }.joined(separator: ", ")
            print("# \(c.caseID) \(Timestamp.format(c.at)) → \(c.lead) (\(thought))" + (c.note.map { "：\($0)" } ?? ""))
            let text = ([c.title] + (c.description.map { [$0] } ?? [])).joined(separator: " ")
                .replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\r", with: "").replacingOccurrences(of: "\n", with: " ")
            print("\(Self.guess(c, routing))\t\(text)")
        }
    }

    /// The category to label it with: the classifier's best suggestion the chosen department
    /// leads, else the category it had if that department leads it, else that department's first.
    static func guess(_ c: Store.Correction, _ routing: Routing) -> String {
        if let s = c.suggestions.first(where: { routing.categories[$0.category]?.lead == c.lead }) { return s.category }
        if routing.categories[c.category]?.lead == c.lead { return c.category }
        return routing.keywordOrder.first { routing.categories[$0]?.lead == c.lead } ?? "?\(c.lead)"
    }
}
