/// A whistle as a table: open until it is stood down, which its case must allow (事不完、人不撤)
/// unless the centre overrides with a reason. Each summoned department has its own table
/// (`SummonMachine`); standing the whistle down stands every department still there down.
public enum WhistleMachine {
    public enum Trigger: String, Sendable, CaseIterable {
        /// More departments summoned to an open whistle.
        case summon
        /// STAND_DOWN by whoever may blow it.
        case standDown = "stand_down"
        /// STAND_DOWN by the centre with a reason, whatever the case's state.
        case override
    }

    public enum Guard: String, Sendable, CaseIterable {
        /// No case, or its case is finished (办结 or later): the work is done.
        case caseFinished = "case_finished"
    }

    public enum Effect: Hashable, Sendable {
        /// SUMMON each department named, with its clock.
        case summonEach
        /// Every department still summoned, on its way or on site stands down (their clocks stop).
        case standDownAll

        public var name: String {
            switch self {
            case .summonEach: "summon_each"
            case .standDownAll: "stand_down_all"
            }
        }
    }

    public typealias Row = Transition<WhistleState, Trigger, Guard, Effect>

    public static let table = MachineTable<WhistleState, Trigger, Guard, Effect>([
        Row(.open, .summon, to: .open, [.summonEach], label: "增派"),
        Row(.open, .standDown, [.caseFinished], to: .closed, [.standDownAll], label: "撤哨"),
        Row(.open, .override, to: .closed, [.standDownAll], label: "指挥中心撤哨"),
    ])

    public static func dot() -> String {
        table.dot(name: "whistle", states: WhistleState.allCases, id: { "w_" + $0.rawValue },
                  stateLabel: { "\($0.rawValue)\\n\($0.chinese)" }, terminal: { $0 == .closed },
                  trigger: \.rawValue, guardName: \.rawValue)
    }
}

/// One summoned department (报到): summoned → en_route → on_site → stood_down, or released early.
/// Its clock runs until it is on site; the `whistle` ladder of sla.yaml fires while it is not.
public enum SummonMachine {
    public enum Trigger: String, Sendable, CaseIterable {
        /// REPORT en_route / on_site.
        case enRoute = "en_route", onSite = "on_site"
        /// The whistle stood down.
        case standDown = "stand_down"
        /// Let go before the whistle stands down (STAND_DOWN naming the agency).
        case release
        /// A rung of the `whistle` ladder comes due.
        case rungDue = "rung_due"
    }

    /// No row of a department's table is guarded.
    public enum Guard: Hashable, Sendable {}

    public enum Effect: Hashable, Sendable {
        /// Its clock stops: no more rungs.
        case stopClock
        /// Its SUMMON, if not yet received, is not sent any more.
        case withdraw
        /// The rung's escalation fact and its NOTICE.
        case escalate

        public var name: String {
            switch self {
            case .stopClock: "stop(whistle)"
            case .withdraw: "withdraw"
            case .escalate: "escalate"
            }
        }
    }

    public typealias Row = Transition<SummonState, Trigger, Guard, Effect>

    public static let table = MachineTable<SummonState, Trigger, Guard, Effect>([
        Row(.summoned, .enRoute, to: .enRoute, label: "出发"),
        Row(.summoned, .onSite, to: .onSite, [.stopClock], label: "报到"),
        Row(.enRoute, .enRoute, to: .enRoute, label: "在途反馈"),
        Row(.enRoute, .onSite, to: .onSite, [.stopClock], label: "报到"),
        Row(.onSite, .onSite, to: .onSite, label: "现场反馈"),
        Row(.summoned, .rungDue, to: .summoned, [.escalate], label: "催办/督办/通报"),
        Row(.enRoute, .rungDue, to: .enRoute, [.escalate], label: "催办/督办/通报"),
    ] + [SummonState.summoned, .enRoute, .onSite].flatMap { s in [
        Row(s, .standDown, to: .stoodDown, [.stopClock, .withdraw], label: "撤离"),
        Row(s, .release, to: .released, [.stopClock, .withdraw], label: "提前解除"),
    ] })

    public static func dot() -> String {
        table.dot(name: "summon", states: SummonState.allCases, id: { "s_" + $0.rawValue },
                  stateLabel: { "\($0.rawValue)\\n\($0.chinese)" }, terminal: { !$0.isActive },
                  trigger: \.rawValue, guardName: { _ in "" })
    }
}
