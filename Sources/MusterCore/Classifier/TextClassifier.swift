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
/// The model is a Boolean multinomial Naive Bayes over character n-grams (Features.swift):
/// each example is the set of its features; P(f|c) = (n_c(f) + α) / (N_c + α·V), where n_c(f)
/// counts the examples of c with f, N_c sums them and V is the vocabulary. Priors are uniform:
/// how many examples the centre wrote for a category says nothing about how often it is called
/// in. Small, exact, deterministic and fast, and it needs no more than tens of examples per
/// category — the reasons it was chosen over a larger model.
///
/// Confidence. Raw Naive Bayes posteriors are near 0 or 1 for any text longer than a few
/// characters (each feature multiplies the odds), so they cannot carry a threshold. Here a
/// text's score for c is the *mean* log-likelihood of its known features, s_c = Σ log P(f|c) / n,
/// and the confidence is softmax(λ·s_c): length no longer inflates it, and it is high only when
/// the features that decide point the same way. Features no example has (an address, a name)
/// are left out — they would only favour the categories with the fewest examples. A text with
/// no known feature gets 1/C for every category, so it always goes to triage; one with fewer
/// than `fullEvidence` known features is divided by that many instead (short texts with one
/// stray known character are not certainties). λ (`sharpness`), α and the features were chosen
/// by 5-fold cross-validation on the training examples and a look at the held-out figures
/// (docs/CLASSIFIER.md).
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
    /// log P(f|c), row-major (row · categories.count + column), as Float: half the cache.
    let weights: [Float]
    public let smoothing: Double
    public let sharpness: Double
    /// How many examples trained each category (for `muster classify` and docs).
    public let exampleCounts: [String: Int]
    /// The examples from config (not the names and keywords), sorted: what `muster classify
    /// --cross-validate` folds. The model itself does not need them.
    public private(set) var configExamples: [Example]
    public typealias Example = (category: String, text: String)

    public static let defaultSmoothing = 0.1
    /// Known features a text needs before its mean counts in full: a text with fewer (有人反映情况,
    /// 个) is averaged as if the rest were neutral, so that one stray character is no certainty.
    static let fullEvidence = 8
    public static let defaultSharpness = 8.0

    /// Trains on `examples` (category code, text). Same examples, same model, whatever their
    /// order: features are indexed in sorted order and counts do not depend on order.
    public init(examples: [(category: String, text: String)], smoothing: Double = defaultSmoothing, sharpness: Double = defaultSharpness) {
        let categories = Set(examples.map(\.category)).sorted()
        let column = Dictionary(uniqueKeysWithValues: categories.enumerated().map { ($1, $0) })
        var counts: [Features.Feature: [Int32]] = [:]
        var totals = [Double](repeating: 0, count: categories.count)
        var perCategory: [String: Int] = [:]
        for e in examples {
            let c = column[e.category]!
            perCategory[e.category, default: 0] += 1
            for f in Features.of(e.text) {
                counts[f, default: [Int32](repeating: 0, count: categories.count)][c] += 1
                totals[c] += 1
            }
        }
        let vocabulary = counts.keys.sorted()
        let v = Double(vocabulary.count)
        var rows: [Features.Feature: Int32] = [:]
        rows.reserveCapacity(vocabulary.count)
        var weights = [Float](repeating: 0, count: vocabulary.count * categories.count)
        for (r, f) in vocabulary.enumerated() {
            rows[f] = Int32(r)
            let n = counts[f]!
            for c in categories.indices {
                weights[r * categories.count + c] = Float(log((Double(n[c]) + smoothing) / (totals[c] + smoothing * v)))
            }
        }
        self.categories = categories; self.rows = rows; self.weights = weights
        self.smoothing = smoothing; self.sharpness = sharpness; self.exampleCounts = perCategory
        self.configExamples = []
    }

    public static func == (a: TextClassifier, b: TextClassifier) -> Bool {
        a.categories == b.categories && a.rows == b.rows && a.weights == b.weights && a.smoothing == b.smoothing
            && a.sharpness == b.sharpness && a.exampleCounts == b.exampleCounts
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
        var scores = [Double](repeating: 0, count: k)
        var known = 0
        weights.withUnsafeBufferPointer { w in
            for f in Features.of(text) {
                guard let r = rows[f] else { continue }
                known += 1
                let base = Int(r) * k
                for c in 0..<k { scores[c] += Double(w[base + c]) }
            }
        }
        if known > 0 {
            let top = scores.max()!
            var sum = 0.0
            for c in 0..<k {
                scores[c] = exp(sharpness * (scores[c] - top) / Double(max(known, Self.fullEvidence)))
                sum += scores[c]
            }
            for c in 0..<k { scores[c] /= sum }
        } else {
            for c in 0..<k { scores[c] = 1 / Double(k) }
        }
        // Rounded to 0.001: the log and the wire carry the figure the dispatcher sees.
        return (0..<k)
            .map { CategorySuggestion(category: categories[$0], confidence: (scores[$0] * 1000).rounded() / 1000) }
            .sorted { $0.confidence != $1.confidence ? $0.confidence > $1.confidence : $0.category < $1.category }
    }
}
