/// What a SUBMIT's category comes to: the one given, the classifier's when it is sure enough,
/// or `unclassified` with the classifier's three best guesses for the dispatcher (研判).
public struct Classification: Sendable, Equatable {
    public var category: String
    /// Only for a case left `unclassified`: the top three, most likely first.
    public var suggestions: [CategorySuggestion]

    public init(category: String, suggestions: [CategorySuggestion] = []) {
        self.category = category; self.suggestions = suggestions
    }
}

extension Rules {
    /// The submitted category wins when given (an unknown one goes to triage as `no_route`).
    /// Otherwise the classifier decides by department: the confidences of the categories each
    /// lead owns (routing.yaml `lead`) are added up, and if the likeliest department reaches
    /// `threshold` the case takes its likeliest category. Mistaking 暴露垃圾 for 道路保洁 sends
    /// the case to the same 城管 desk; mistaking it for a 住建 category sends it astray — the
    /// threshold guards the latter. The out-of-scope class (`unclassified`, "none of these") is a
    /// department of its own that is never dispatched: when it is the likeliest, or takes enough
    /// confidence that no department reaches the threshold, the case goes to triage. Below the
    /// threshold, never a guess: the case waits at the triage queue with the top three
    /// categories (out of scope left out) shown to the dispatcher.
    ///
    /// Before the model, routing.yaml's keywords stay as overrides: the first category (in file
    /// order) one of whose keywords the text contains verbatim is taken at once — the centre's
    /// own words for a category, which no example can outvote.
    public func classify(category: String?, text: String) -> Classification {
        if let category { return Classification(category: category) }
        if let code = routing.keywordMatch(text) { return Classification(category: code) }
        let all = classifier.classify(text)
        var byLead: [String: Double] = [:]
        for s in all {
            // "" is no agency code: the out-of-scope class's own "department".
            if s.category == Routing.unclassified { byLead["", default: 0] += s.confidence }
            else if let c = routing.categories[s.category] { byLead[c.lead, default: 0] += s.confidence }
        }
        let ranked = all.filter { routing.categories[$0.category] != nil }
        // Ties by agency code: the same text, the same answer.
        if let (lead, confidence) = byLead.max(by: { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }),
           !lead.isEmpty, confidence >= threshold, let best = ranked.first(where: { routing.categories[$0.category]!.lead == lead }) {
            return Classification(category: best.category)
        }
        return Classification(category: Routing.unclassified, suggestions: Array(ranked.prefix(3)))
    }
}
