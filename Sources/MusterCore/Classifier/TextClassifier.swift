import Foundation
import MusterWire

/// A category the classifier proposes for a free text, with how sure it is (0…1).
public struct CategorySuggestion: Codable, Sendable, Equatable {
    public var category: String
    public var confidence: Double
    public init(category: String, confidence: Double) { self.category = category; self.confidence = confidence }

    /// `{"category":…,"confidence":…}`, as the log and the EVENT carry it.
    public var json: [UInt8] {
        var w = JSONWriter(capacity: 48)
        w.field("category", category); w.field("confidence", confidence)
        return w.finish()
    }
}

/// 智能派单: the category of a complaint from its title and description, learnt from the
/// examples in config/classifier/ plus each category's name and routing.yaml keywords.
///
/// The model is a multinomial logistic regression (softmax) over character n-grams
/// (Features.swift): a text is the set of its features, each worth 1/n^0.25 for a text of n known
/// features (`Training.lengthPower`), and the confidence of category c is softmax(x·w_c + b_c).
/// Discriminative, unlike the Naive Bayes it replaced: a weight is learnt for what a feature says
/// *given the others*, so generic wording (想, 一下, 家里) that appears everywhere gets little
/// weight, and the softmax is a probability the threshold can be set on (Naive Bayes' posteriors
/// were 0 or 1 and had to be flattened by hand). Trained when the config loads, by `Training`
/// (TextClassifier+Training.swift): deterministic, in well under a second.
///
/// A text none of whose features any example has (an address, a name, 请帮忙看看) gets 1/C for
/// every category: no evidence, evenly unsure, so it always goes to triage.
///
/// None of these. Examples under the reserved code `unclassified` (config/classifier/
/// unclassified.yaml: policy questions, other departments' matters, thanks, chit-chat) train a
/// class of their own, learnt like any category. It is never dispatched: what the model thinks
/// is out of scope takes confidence away from every department, so the case goes to triage
/// instead of being given, confidently, to whichever category shares a few characters with it
/// (广场舞音响声音太大 is not 夜间施工噪音). `Rules.classify` never shows it as a suggestion.
public struct TextClassifier: Sendable, Equatable {
    /// Category codes, sorted: the columns of `weights`.
    public let categories: [String]
    /// Feature → its row in `weights`.
    let rows: [Features.Feature: Int32]
    /// The learnt weights, row-major (row · categories.count + column), and one bias a category.
    let weights: [Double]
    let bias: [Double]
    /// How training went: the settings and the mean loss of each epoch.
    public let training: Training
    /// How many examples trained each category (for `muster classify` and docs).
    public let exampleCounts: [String: Int]
    /// The examples from config (not the names and keywords), sorted: what `muster classify
    /// --cross-validate` folds. The model itself does not need them.
    public private(set) var configExamples: [Example]
    public typealias Example = (category: String, text: String)

    /// Trains on `examples` (category code, text). Same examples, same model, whatever their
    /// order: they are sorted first, and training draws its order from a fixed seed.
    public init(examples: [(category: String, text: String)], settings: Training.Settings = .init()) {
        let sorted = examples.sorted { $0.category != $1.category ? $0.category < $1.category : $0.text < $1.text }
        let categories = Set(sorted.map(\.category)).sorted()
        let column = Dictionary(uniqueKeysWithValues: categories.enumerated().map { ($1, $0) })
        let documents = sorted.map { Features.of($0.text) }
        let vocabulary = Set(documents.joined()).sorted()
        var rows: [Features.Feature: Int32] = [:]
        rows.reserveCapacity(vocabulary.count)
        for (r, f) in vocabulary.enumerated() { rows[f] = Int32(r) }
        var perCategory: [String: Int] = [:]
        for e in sorted { perCategory[e.category, default: 0] += 1 }
        let trained = Training.run(
            documents: documents.map { $0.map { rows[$0]! } }, labels: sorted.map { Int32(column[$0.category]!) },
            features: vocabulary.count, classes: categories.count, settings: settings)
        self.categories = categories; self.rows = rows
        self.weights = trained.weights; self.bias = trained.bias; self.training = trained.report
        self.exampleCounts = perCategory
        self.configExamples = []
    }

    public static func == (a: TextClassifier, b: TextClassifier) -> Bool {
        a.categories == b.categories && a.rows == b.rows && a.weights == b.weights && a.bias == b.bias
            && a.training == b.training && a.exampleCounts == b.exampleCounts
            && a.configExamples.elementsEqual(b.configExamples) { $0.category == $1.category && $0.text == $1.text }
    }

    /// The examples of a category routing.yaml knows, or of the reserved `unclassified` (none of these).
    public static func isTrainable(_ category: String, in routing: Routing) -> Bool {
        routing.categories[category] != nil || category == Routing.unclassified
    }

    /// Trained on each category's name and keywords alone: what a config without examples
    /// classifies by (and the pure tests' small city).
    /// Examples under `unclassified` train the out-of-scope class (see above).
    public init(routing: Routing, examples: [(category: String, text: String)] = []) {
        let own = routing.keywordOrder.compactMap { routing.categories[$0] }.flatMap { c in
            ([c.name] + c.keywords).map { (category: c.code, text: $0) }
        }
        let kept = examples.filter { Self.isTrainable($0.category, in: routing) }
        self.init(examples: own + kept)
        self.configExamples = kept.sorted { $0.category != $1.category ? $0.category < $1.category : $0.text < $1.text }
    }

    /// Every category with its confidence, most likely first (ties by code, so the order is
    /// deterministic); confidences sum to 1 (± rounding to 0.001).
    public func classify(_ text: String) -> [CategorySuggestion] {
        let k = categories.count
        guard k > 0 else { return [] }
        let known = Features.of(text).compactMap { rows[$0] }
        var scores = bias
        if known.isEmpty {
            for c in 0..<k { scores[c] = 1 / Double(k) }
        } else {
            let value = Training.value(of: known.count)
            weights.withUnsafeBufferPointer { w in
                scores.withUnsafeMutableBufferPointer { z in
                    for r in known {
                        let base = Int(r) * k
                        var c = 0
                        while c < k { z[c] += value * w[base + c]; c += 1 }
                    }
                    Training.softmax(z)
                }
            }
        }
        // Rounded to 0.001: the log and the wire carry the figure the dispatcher sees.
        return (0..<k)
            .map { CategorySuggestion(category: categories[$0], confidence: (scores[$0] * 1000).rounded() / 1000) }
            .sorted { $0.confidence != $1.confidence ? $0.confidence > $1.confidence : $0.category < $1.category }
    }
}
