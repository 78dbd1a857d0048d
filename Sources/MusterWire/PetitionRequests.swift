/// PETITION: the petition office's and the units' acts on a petition's own course (PROTOCOL.md, "Petitions").

/// A document served on a petitioner (告知): what, by whom, when received, and where it is kept.
public struct PetitionDocument: Codable, Sendable, Equatable {
    public var kind: PetitionNoticeKind
    /// 文号, e.g. 郑信转〔2026〕118号.
    public var number: String?
    public var title: String?
    /// The unit that issued it (the 复查 body for a 复查意见书).
    public var issuer: String?
    /// Where the petition office keeps it (the text stays there: it names the petitioner).
    public var url: String?
    public var sha256: String?
    /// When the petitioner received it (RFC 3339): the windows run from here. Default: now.
    public var servedAt: String?

    public init(kind: PetitionNoticeKind, number: String? = nil, title: String? = nil, issuer: String? = nil,
                url: String? = nil, sha256: String? = nil, servedAt: String? = nil) {
        self.kind = kind; self.number = number; self.title = title; self.issuer = issuer
        self.url = url; self.sha256 = sha256; self.servedAt = servedAt
    }

    enum CodingKeys: String, CodingKey { case kind, number, title, issuer, url, sha256, servedAt = "served_at" }

    func validate(_ field: String) throws(WireError) {
        try Check.line(number, field + ".number", max: 200)
        try Check.line(title, field + ".title", max: 500)
        try Check.line(issuer, field + ".issuer", max: 200)
        if let url { try Check.attachment(Attachment(url: url, sha256: sha256), field) }
        if let t = servedAt, !Check.isRFC3339(t) { throw .badField(field + ".served_at", "not an RFC 3339 time with offset") }
    }
}

/// PETITION (信访): an act on a petition's own course — a document served, an objection and
/// its ruling, the petitioner's request for 复查 or 复核, a repeat confirmed or split.
public struct PetitionAct: Request {
    public var id: String
    public var caseID: String
    public var act: PetitionActKind
    /// For `notify`.
    public var document: PetitionDocument?
    /// For `rule`: the objection upheld (the petition goes back to be forwarded) or not.
    public var agree: Bool?
    /// For `object` (required) and `rule`, `request_*`, `*_repeat`.
    public var reason: String?

    public init(id: String, caseID: String, act: PetitionActKind, document: PetitionDocument? = nil, agree: Bool? = nil, reason: String? = nil) {
        self.id = id; self.caseID = caseID; self.act = act; self.document = document; self.agree = agree; self.reason = reason
    }

    enum CodingKeys: String, CodingKey { case id, caseID = "case_id", act, document, agree, reason }

    public func validate() throws(WireError) {
        try Check.name(caseID, "case_id")
        try Check.optional(reason, "reason")
        switch act {
        case .notify:
            guard let document else { throw .badField("document", "notify needs the document served (kind, number, served_at …)") }
            try document.validate("document")
        case .object:
            guard reason != nil else { throw .badField("reason", "an objection needs its reason (why the unit is not responsible)") }
        case .rule:
            guard agree != nil else { throw .badField("agree", "a ruling says agree: true (returned) or false (the unit handles it)") }
        default: break
        }
        if act != .notify, document != nil { throw .badField("document", "a document goes with notify only") }
        if act != .rule, agree != nil { throw .badField("agree", "agree goes with rule only") }
    }
}
