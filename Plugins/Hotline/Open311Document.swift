import Foundation

/// One answer of the Open311 API, written in the format the client asked for by the resource's
/// extension (`services.xml`, `requests/C0000000001.json`). Every GeoReport v2 document is a list
/// of flat records — `<services><service>…`, `<service_requests><request>…`, `<errors><error>…`,
/// mySociety's `<service_request_updates><request_update>…` — and in JSON the same list as an
/// array of objects (the spec's "Spark convention"). Fields keep the spec's order in XML.
struct Open311Document: Equatable {
    enum Format: String { case json, xml }

    enum Value: Equatable {
        case text(String), number(Double), bool(Bool), null
    }

    typealias Record = [(String, Value)]

    var root: String
    var item: String
    var records: [Record]

    static func == (a: Open311Document, b: Open311Document) -> Bool {
        a.root == b.root && a.item == b.item && a.records.count == b.records.count
            && zip(a.records, b.records).allSatisfy { x, y in x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 } }
    }

    /// The spec's error document: each error's `code` (the HTTP status, as the spec's example
    /// has it) and a description for the user.
    static func errors(_ code: Int, _ descriptions: [String]) -> Open311Document {
        Open311Document(root: "errors", item: "error", records: descriptions.map { [("code", .number(Double(code))), ("description", .text($0))] })
    }

    func rendered(_ format: Format) -> [UInt8] {
        switch format {
        case .json: json()
        case .xml: Array(xml().utf8)
        }
    }

    func json() -> [UInt8] {
        let list: [[String: Any]] = records.map { r in
            Dictionary(r.map { ($0.0, Self.any($0.1)) }, uniquingKeysWith: { a, _ in a })
        }
        let data = (try? JSONSerialization.data(withJSONObject: list, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("[]".utf8)
        return Array(data)
    }

    func xml() -> String {
        var w = XMLWriter()
        w.start(root)
        for r in records {
            w.start(item)
            for (k, v) in r { w.element(k, Self.text(v)) }
            w.end()
        }
        return w.finish()
    }

    static func any(_ v: Value) -> Any {
        switch v {
        case .text(let s): s
        case .number(let d): d == d.rounded() && abs(d) < 1e15 ? Int(d) as Any : d as Any
        case .bool(let b): b
        case .null: NSNull()
        }
    }

    static func text(_ v: Value) -> String? {
        switch v {
        case .text(let s): s
        case .number(let d): d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
        case .bool(let b): b ? "true" : "false"
        case .null: nil
        }
    }

    /// GET services/{code}: a service definition. Muster's services take no attributes
    /// (`metadata` false), so its `attributes` are empty; served all the same for clients that ask.
    static func definition(_ code: String, _ format: Format) -> [UInt8] {
        switch format {
        case .json:
            let data = (try? JSONSerialization.data(withJSONObject: ["service_code": code, "attributes": [Any]()], options: [.sortedKeys])) ?? Data()
            return Array(data)
        case .xml:
            var w = XMLWriter()
            w.start("service_definition")
            w.element("service_code", code)
            w.start("attributes")
            w.end()
            return Array(w.finish().utf8)
        }
    }
}
