/// Each event type's name for people: Chinese first, then English — `muster case`'s timeline
/// and the centre's screen (`muster web`) say the same.
public enum EventLabels {
    public static let names: [String: String] = [
        "case.accepted": "受理 accepted", "case.merged": "并案 merged", "case.report_merged": "并单 report merged",
        "case.triage": "研判 triage", "case.consultation": "会商 consultation", "case.dispatched": "派单 dispatched",
        "case.assigned": "指派 assigned", "case.rejected": "不予受理 rejected", "dispatch.acked": "签收 signed for",
        "dispatch.progress": "处置反馈 progress", "case.resolved": "办结 finished", "dispatch.resolved": "协办完成 assist finished", "dispatch.returned": "退单 returned",
        "dispatch.cancelled": "撤回 withdrawn", "case.verified": "核实通过 verified", "case.rework": "返工 rework",
        "case.evaluated": "回访评价 rated", "case.closed": "结案 closed",
        "clock.scheduled": "计时 clocks started", "case.escalated": "督办 escalated", "dispatch.extended": "延期 extended",
        "dispatch.backlogged": "挂账 backlog", "mode.changed": "模式 mode changed",
        "dispatch.deadlines_moved": "时限调整 deadlines moved (holiday schedule)",
        "whistle.blown": "吹哨 whistle blown", "whistle.summoned": "召集 summoned", "whistle.reported": "报到 reported",
        "whistle.released": "提前解除 released", "whistle.stood_down": "撤哨 stood down", "downstream.update": "部门系统状态 downstream status", "incident.declared": "已知事件 incident declared", "incident.ended": "事件结束 incident ended", "case.handed_back": "事件结束转办 handed back", "adapter.health": "部门系统健康 downstream health", "whistle.escalated": "报到督办 escalated",
        "dispatch.milestone_reached": "阶段完成 stage reached",
        "petition.notified": "告知 document served", "petition.objected": "异议 objection", "petition.ruled": "异议裁定 ruling",
        "petition.requested": "申请复查/复核 request", "petition.window_closed": "期满 window closed",
        "petition.repeat_confirmed": "确认重复 repeat confirmed", "petition.split": "拆分 repeat split",
    ]

    /// The Chinese part alone ("派单"), for narrow places.
    public static func chinese(_ type: String) -> String {
        names[type].map { String($0.split(separator: " ").first ?? Substring($0)) } ?? type
    }
}
