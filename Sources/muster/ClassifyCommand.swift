import ArgumentParser
import Foundation
import MusterConfig
import MusterCore

/// `muster classify`: what 智能派单 makes of a text, or how it does on a labelled file.
struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "智能派单: the category the broker would give a SUBMIT without one, --eval on a labelled file, or --cross-validate.",
        discussion: """
            With a text: the three likeliest categories with their confidence and lead department, and \
            whether the broker would dispatch (at or above the threshold) or send it to triage (研判).

            With --eval FILE (one `category<TAB>text` a line; # comments): how many go to the right \
            department (the predicted category's lead is the true one's, grid overrides aside), to a \
            wrong one (a confident wrong guess), and to triage (below the threshold); then every case \
            that did not reach the right department. Lines labelled `unclassified` are texts that fit no \
            category: they are counted apart, by the share that went to triage (the right outcome). \
            Exit 0 whatever the figures.

            With --cross-validate K: the examples in config/classifier/ are split into K folds (per \
            category, in a fixed order); each fold is classified by a model trained on the other K−1 \
            and the categories' names and keywords. The honest way to tune: it never sees a held-out file.
            """)

    @Option(help: "The broker's config file.") var config = "config/muster.yaml"
    @Option(help: "A labelled file to evaluate: category<TAB>text per line, # comments.") var eval: String?
    @Option(name: .customLong("cross-validate"), help: "K-fold cross-validation on the training examples (K ≥ 2).") var folds: Int?
    @Argument(help: "The complaint's title and description.") var text: [String] = []

    func run() throws {
        let rules: Rules
        do { rules = try BrokerConfig.load(config, insecure: true).rules } catch { throw CLIError("\(error)") }
        if let folds {
            guard folds >= 2 else { throw CLIFailure(.usage, "--cross-validate needs K ≥ 2") }
            crossValidate(folds, rules)
        } else if let eval {
            try evaluate(eval, rules)
        } else if !text.isEmpty {
            show(text.joined(separator: " "), rules)
        } else {
            throw CLIFailure(.usage, "give a text to classify, or --eval FILE")
        }
    }

    func show(_ text: String, _ rules: Rules) {
        let ranked = rules.classifier.classify(text)
        for (i, s) in ranked.prefix(3).enumerated() {
            print("\(i + 1). \(Self.describe(s.category, rules))  \(Self.percent(s.confidence))")
        }
        let c = rules.classify(category: nil, text: text)
        if c.category == Routing.unclassified {
            print("→ 转研判 to triage: below the threshold \(rules.threshold) (the three above are shown to the dispatcher)")
        } else {
            print("→ 派单 dispatched as \(Self.describe(c.category, rules))")
        }
    }

    func evaluate(_ path: String, _ rules: Rules) throws {
        guard let content = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CLIFailure(.noFile, "no such file: \(path)")
        }
        var items: [(line: Int, category: String, text: String)] = []
        for (i, raw) in content.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: "\t", maxSplits: 1)
            guard parts.count == 2, !parts[1].trimmingCharacters(in: .whitespaces).isEmpty else {
                throw CLIFailure(.badFile, "\(path):\(i + 1): expected category<TAB>text")
            }
            let category = String(parts[0])
            guard rules.routing.categories[category] != nil || category == Routing.unclassified else {
                throw CLIFailure(.badFile, "\(path):\(i + 1): unknown category \"\(category)\" (not in routing.yaml)")
            }
            items.append((i + 1, category, String(parts[1])))
        }
        guard !items.isEmpty else { throw CLIFailure(.badFile, "\(path): no labelled lines") }
        let outcome = Self.score(items.map { ($0.category, $0.text) }, rules)
        // A quick benchmark: the whole file classified 20 times, per text.
        let started = DispatchTime.now().uptimeNanoseconds
        var sink = 0
        for _ in 0..<20 { for item in items { sink &+= rules.classifier.classify(item.text).count } }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1000 / Double(items.count * 20)
        let chars = Double(items.map { $0.text.count }.reduce(0, +)) / Double(items.count)
        print("texts: \(items.count)  (threshold \(rules.threshold), \(rules.classifier.exampleCounts.values.reduce(0, +)) training texts)")
        outcome.report()
        print(String(format: "time: %.1f µs a classification (texts of %.0f characters on average)", elapsed, chars) + (sink < 0 ? "" : ""))
        func located(_ i: Int) -> String { "\(path):\(items[i].line): \(items[i].text)" }
        if !outcome.wrong.isEmpty { print("wrong department:"); outcome.wrong.forEach { print("  \(located($0.index))\($0.note)") } }
        if !outcome.triage.isEmpty { print("to triage:"); outcome.triage.forEach { print("  \(located($0.index))\($0.note)") } }
        if !outcome.outOfScopeRouted.isEmpty {
            print("out of scope, dispatched:"); outcome.outOfScopeRouted.forEach { print("  \(located($0.index))\($0.note)") }
        }
    }

    /// What the broker's rules make of labelled texts: in scope right, wrong, to triage; out of
    /// scope (`unclassified`) to triage or dispatched. Each miss by its index, with a note.
    struct Outcome {
        var inScope = 0, right = 0, outOfScope = 0, outOfScopeTriaged = 0
        var wrong: [(index: Int, note: String)] = [], triage: [(index: Int, note: String)] = []
        var outOfScopeRouted: [(index: Int, note: String)] = []
        static func + (a: Outcome, b: Outcome) -> Outcome {
            Outcome(inScope: a.inScope + b.inScope, right: a.right + b.right, outOfScope: a.outOfScope + b.outOfScope,
                    outOfScopeTriaged: a.outOfScopeTriaged + b.outOfScopeTriaged, wrong: a.wrong + b.wrong,
                    triage: a.triage + b.triage, outOfScopeRouted: a.outOfScopeRouted + b.outOfScopeRouted)
        }
        func report() {
            func share(_ k: Int, _ n: Int) -> String { String(format: "%d/%d = %.1f %%", k, n, n == 0 ? 0 : Double(k) / Double(n) * 100) }
            if inScope > 0 {
                print("right department (派对): \(share(right, inScope))")
                print("wrong department (派错): \(share(wrong.count, inScope))")
                print("to triage (转研判): \(share(triage.count, inScope))")
            }
            if outOfScope > 0 {
                print("out of scope to triage (范围外转研判): \(share(outOfScopeTriaged, outOfScope))")
            }
        }
    }

    static func score(_ items: [(category: String, text: String)], _ rules: Rules) -> Outcome {
        var o = Outcome()
        for (i, item) in items.enumerated() {
            let c = rules.classify(category: nil, text: item.text)
            let guesses = c.suggestions.map { "\($0.category) \(percent($0.confidence))" }.joined(separator: ", ")
            if item.category == Routing.unclassified {
                o.outOfScope += 1
                if c.category == Routing.unclassified { o.outOfScopeTriaged += 1 }
                else { o.outOfScopeRouted.append((i, " → \(describe(c.category, rules)) \(percent(rules.classifier.classify(item.text).first!.confidence))")) }
                continue
            }
            o.inScope += 1
            let truth = rules.routing.categories[item.category]!.lead
            if c.category == Routing.unclassified {
                o.triage.append((i, " — \(item.category) (\(truth)); suggestions: \(guesses)"))
            } else if rules.routing.categories[c.category]?.lead == truth {
                o.right += 1
            } else {
                let top = rules.classifier.classify(item.text).first!
                o.wrong.append((i, " — \(item.category) (\(truth)) → \(describe(c.category, rules)) \(percent(top.confidence))"))
            }
        }
        return o
    }

    /// K-fold cross-validation on config/classifier/'s examples: stratified (each category's
    /// examples, in sorted order, dealt to the folds in turn), so the same config gives the
    /// same figures. Names and keywords always train; they are not examples of a caller's words.
    func crossValidate(_ k: Int, _ rules: Rules) {
        let examples = rules.classifier.configExamples
        var fold = [Int](repeating: 0, count: examples.count)
        var dealt: [String: Int] = [:]
        for (i, e) in examples.enumerated() { fold[i] = dealt[e.category, default: 0] % k; dealt[e.category, default: 0] += 1 }
        var total = Outcome(), misses: [String] = []
        for f in 0..<k {
            let train = examples.indices.filter { fold[$0] != f }.map { examples[$0] }
            let test = examples.indices.filter { fold[$0] == f }.map { examples[$0] }
            var r = rules
            r.classifier = TextClassifier(routing: rules.routing, examples: train)
            let o = Self.score(test, r)
            misses += o.wrong.map { "  \(test[$0.index].text)\($0.note)" }
            misses += o.outOfScopeRouted.map { "  \(test[$0.index].text) — unclassified\($0.note)" }
            total = total + o
        }
        print("cross-validation: \(k) folds of \(examples.count) examples (threshold \(rules.threshold))")
        total.report()
        if !misses.isEmpty { print("wrong department or out of scope dispatched:"); misses.forEach { print($0) } }
    }

    static func describe(_ category: String, _ rules: Rules) -> String {
        if category == Routing.unclassified { return "unclassified 不属于派单范围 none of these (never dispatched)" }
        guard let c = rules.routing.categories[category] else { return category }
        let lead = rules.routing.agencies[c.lead]?.name ?? c.lead
        return "\(c.code) \(c.name) → \(c.lead) \(lead.split(separator: " ").first.map(String.init) ?? lead)"
    }

    static func percent(_ p: Double) -> String { String(format: "%.3f", p) }
}
