/// The usual shapes of the messages every case brings — SUBMIT, RECEIVED and the acts of its
/// lifecycle (ACK, RESOLVE, VERIFY, EVALUATE) — read straight from the tree. Codable over the
/// tree cost a SUBMIT ~25,000 instructions (generic containers, their metadata looked up at run
/// time), more than the parse. Only a value read the way Codable
/// would read it is returned; anything else (a wrong type, a number out of range) gives nil and
/// the request goes through Codable, whose error names the field.
public protocol PlainDecodable {
    init?(plain tree: JSONTree)
}

extension Received: PlainDecodable {
    public init?(plain tree: JSONTree) {
        guard case .array(let items)? = tree["deliveries"]?.value else { return nil }
        var ids: [String] = []
        ids.reserveCapacity(items.count)
        for item in items {
            guard case .string(let id) = item.value else { return nil }
            ids.append(id)
        }
        self.init(deliveries: ids)
    }
}

extension Ack: PlainDecodable {
    public init?(plain tree: JSONTree) {
        guard case .object = tree.value, case .string(let id)? = tree["id"]?.value,
              case .string(let dispatchID)? = tree["dispatch_id"]?.value,
              let handler = Plain.string(tree["handler"]), let note = Plain.string(tree["note"]),
              let downstream = Plain.decoded(DownstreamRef.self, tree["downstream"])
        else { return nil }
        self.init(id: id, dispatchID: dispatchID, handler: handler, note: note, downstream: downstream)
    }
}

extension Resolve: PlainDecodable {
    public init?(plain tree: JSONTree) {
        guard case .object = tree.value, case .string(let id)? = tree["id"]?.value,
              case .string(let dispatchID)? = tree["dispatch_id"]?.value,
              let result = Plain.string(tree["result"]), let note = Plain.string(tree["note"]),
              let attachments = Plain.decoded([Attachment].self, tree["attachments"]),
              let downstream = Plain.decoded(DownstreamRef.self, tree["downstream"])
        else { return nil }
        self.init(id: id, dispatchID: dispatchID, result: result, note: note, attachments: attachments, downstream: downstream)
    }
}

extension Verify: PlainDecodable {
    public init?(plain tree: JSONTree) {
        guard case .object = tree.value, case .string(let id)? = tree["id"]?.value,
              case .string(let caseID)? = tree["case_id"]?.value, case .bool(let passed)? = tree["passed"]?.value,
              let note = Plain.string(tree["note"])
        else { return nil }
        self.init(id: id, caseID: caseID, passed: passed, note: note)
    }
}

extension Evaluate: PlainDecodable {
    public init?(plain tree: JSONTree) {
        guard case .object = tree.value, case .string(let id)? = tree["id"]?.value,
              case .string(let caseID)? = tree["case_id"]?.value,
              case .string(let name)? = tree["satisfaction"]?.value, let satisfaction = Satisfaction(rawValue: name),
              let note = Plain.string(tree["note"])
        else { return nil }
        self.init(id: id, caseID: caseID, satisfaction: satisfaction, note: note)
    }
}

/// Every DISPATCH reads its case's reporter again, to mask it for the department.
extension Reporter: PlainDecodable {
    public init?(plain tree: JSONTree) {
        guard case .object = tree.value,
              let name = Plain.string(tree["name"]), let phone = Plain.string(tree["phone"]),
              let idNumber = Plain.string(tree["id_number"]), let anonymous = Plain.bool(tree["anonymous"])
        else { return nil }
        self.init(name: name, phone: phone, idNumber: idNumber, anonymous: anonymous)
    }
}

extension Submit: PlainDecodable {
    public init?(plain tree: JSONTree) {
        guard case .string(let id)? = tree["id"]?.value, let c = tree["case"], let submitted = SubmittedCase(plain: c) else { return nil }
        self.init(id: id, case: submitted)
    }
}

extension SubmittedCase {
    init?(plain tree: JSONTree) {
        guard case .object = tree.value,
              case .string(let source)? = tree["source"]?.value, let source = Source(rawValue: source),
              case .string(let externalRef)? = tree["external_ref"]?.value,
              case .string(let title)? = tree["title"]?.value,
              let locationTree = tree["location"], let location = Location(plain: locationTree),
              let category = Plain.string(tree["category"]), let description = Plain.string(tree["description"]),
              let priorityName = Plain.string(tree["priority"]), let reportedAt = Plain.string(tree["reported_at"]),
              let reporter = Plain.decoded(Reporter.self, tree["reporter"]),
              let attachments = Plain.decoded([Attachment].self, tree["attachments"]),
              let petition = Plain.decoded(PetitionIntake.self, tree["petition"])
        else { return nil }
        var priority: Priority?
        if let name = priorityName { guard let p = Priority(rawValue: name) else { return nil }; priority = p }
        self.init(source: source, externalRef: externalRef, category: category, title: title, description: description,
                  priority: priority, location: location, reporter: reporter, reportedAt: reportedAt,
                  attachments: attachments, petition: petition)
    }
}

extension Location {
    init?(plain tree: JSONTree) {
        guard case .object = tree.value,
              let grid = Plain.string(tree["grid"]), let address = Plain.string(tree["address"]),
              let lat = Plain.double(tree["lat"]), let lon = Plain.double(tree["lon"])
        else { return nil }
        self.init(grid: grid, address: address, lat: lat, lon: lon)
    }
}

/// An optional member as Codable's `decodeIfPresent` reads it: `.some(nil)` when absent or
/// null, nil when it is there but not readable this way.
enum Plain {
    static func string(_ tree: JSONTree?) -> String?? {
        guard let tree else { return .some(nil) }
        switch tree.value {
        case .null: return .some(nil)
        case .string(let s): return .some(s)
        default: return nil
        }
    }

    static func bool(_ tree: JSONTree?) -> Bool?? {
        guard let tree else { return .some(nil) }
        switch tree.value {
        case .null: return .some(nil)
        case .bool(let b): return .some(b)
        default: return nil
        }
    }

    static func double(_ tree: JSONTree?) -> Double?? {
        guard let tree else { return .some(nil) }
        switch tree.value {
        case .null: return .some(nil)
        case .number(let text): return Double(text).flatMap { $0.isFinite ? .some($0) : nil }
        default: return nil
        }
    }

    /// The other parts (a reporter, attachments, a petition): plainly when the type can be read
    /// so, through Codable on their own otherwise.
    static func decoded<T: Decodable>(_ type: T.Type, _ tree: JSONTree?) -> T?? {
        guard let tree else { return .some(nil) }
        if case .null = tree.value { return .some(nil) }
        if let plain = (T.self as? PlainDecodable.Type)?.init(plain: tree) as? T { return .some(plain) }
        return (try? T(from: TreeDecoder(tree: tree, codingPath: []))).map { .some($0) }
    }
}
