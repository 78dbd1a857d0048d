/// One row of a machine's table: in `from`, on `trigger`, when every guard holds, the machine
/// goes to `to` and carries out `effects` in order. `label` is the 中文 name drawn on the graph.
public struct Transition<State: Hashable & Sendable, Trigger: Hashable & Sendable, Guard: Hashable & Sendable, Effect: Hashable & Sendable>:
    Sendable, Equatable {
    public var from: State
    public var trigger: Trigger
    public var guards: [Guard]
    public var to: State
    public var effects: [Effect]
    public var label: String

    public init(_ from: State, _ trigger: Trigger, _ guards: [Guard] = [], to: State, _ effects: [Effect] = [], label: String) {
        self.from = from; self.trigger = trigger; self.guards = guards; self.to = to; self.effects = effects; self.label = label
    }
}

/// A machine as data: its rows, looked up by (state, trigger). Rows of the same pair are tried
/// in order and the first whose guards all hold is taken; a pair with no row is the catch-all
/// (`invalid_transition`), a pair whose rows all fail a guard is refused for that guard.
public struct MachineTable<State: Hashable & Sendable, Trigger: Hashable & Sendable, Guard: Hashable & Sendable, Effect: Hashable & Sendable>:
    Sendable {
    public typealias Row = Transition<State, Trigger, Guard, Effect>

    /// What the table says to a trigger in a state.
    public enum Outcome: Sendable, Equatable {
        case take(Row)
        /// Rows exist but this guard (of the first row) does not hold.
        case blocked(Guard)
        /// No row: the trigger does not apply in this state.
        case none

        public var row: Row? { if case .take(let r) = self { r } else { nil } }
    }

    private struct Key: Hashable { var state: State; var trigger: Trigger }

    public let rows: [Row]
    private let index: [Key: [Row]]

    public init(_ rows: [Row]) {
        self.rows = rows
        self.index = Dictionary(grouping: rows) { Key(state: $0.from, trigger: $0.trigger) }
    }

    public func rows(_ state: State, _ trigger: Trigger) -> [Row] { index[Key(state: state, trigger: trigger)] ?? [] }

    /// The row to take, evaluating guards with `holds`.
    public func outcome(_ state: State, _ trigger: Trigger, holds: (Guard) -> Bool) -> Outcome {
        let candidates = rows(state, trigger)
        guard let first = candidates.first else { return .none }
        if let row = candidates.first(where: { $0.guards.allSatisfy(holds) }) { return .take(row) }
        return .blocked(first.guards.first { !holds($0) }!)
    }

    /// Graphviz source: states as boxes (terminal ones doubled), rows as edges labelled with the
    /// trigger, its 中文 name and the guards in brackets.
    public func dot(name: String, states: [State], id: (State) -> String, stateLabel: (State) -> String, terminal: (State) -> Bool,
                    trigger: (Trigger) -> String, guardName: (Guard) -> String) -> String {
        var out = "digraph \(name) {\n  rankdir=LR;\n  node [shape=box, fontname=\"Noto Sans CJK SC\"];\n"
        for s in states {
            out += "  \(id(s)) [label=\"\(stateLabel(s))\"\(terminal(s) ? ", peripheries=2" : "")];\n"
        }
        for r in rows {
            let guards = r.guards.isEmpty ? "" : "\\n[" + r.guards.map(guardName).joined(separator: ", ") + "]"
            out += "  \(id(r.from)) -> \(id(r.to)) [label=\"\(trigger(r.trigger))\\n\(r.label)\(guards)\"];\n"
        }
        return out + "}\n"
    }
}
