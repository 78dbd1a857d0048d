import Foundation
import MusterWire

/// POST requests: the spec's form (application/x-www-form-urlencoded) checked and turned into the
/// `case` of a SUBMIT. Every problem is the spec's error: 400 naming the parameter, 404 for a
/// service_code or jurisdiction_id that does not exist, 403 for the api_key (checked before this).
struct Open311Form: Equatable {
    struct Refusal: Error, Equatable {
        var status: Int
        var description: String
        var document: Open311Document { .errors(status, [description]) }
        static func bad(_ d: String) -> Refusal { Refusal(status: 400, description: d) }
    }

    var serviceCode: String
    var lat: Double?
    var lon: Double?
    var address: String?
    var addressID: String?
    var description: String?
    var mediaURL: String?
    var firstName: String?
    var lastName: String?
    var phone: String?
    var accountID: String?
    /// `attribute[code]=v`, `attribute[code][]=v` …: kept as given, passed to the department.
    var attributes: [String: [String]]

    /// The spec's parameters; `email` and `device_id` are taken and not kept (a case has no place
    /// for them, and a department has no use for a device id).
    static let parameters: Set<String> = ["api_key", "jurisdiction_id", "service_code", "lat", "long", "address_string", "address_id",
                                          "email", "device_id", "account_id", "first_name", "last_name", "phone", "description", "media_url"]

    /// A form or query string as (name, value) pairs, in order; nil if it is not valid
    /// percent-encoding.
    static func pairs(_ encoded: String) -> [(String, String)]? {
        var out: [(String, String)] = []
        for part in encoded.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String? { String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
            guard let k = decode(kv[0]), let v = kv.count > 1 ? decode(kv[1]) : "" else { return nil }
            out.append((k, v))
        }
        return out
    }

    /// The parameters once each (a repeated one is refused: which would count?), unknown ones
    /// refused by name; `attribute[…]` may repeat (a multivaluelist).
    static func single(_ pairs: [(String, String)], allowed: Set<String>) throws(Refusal) -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in pairs where !k.hasPrefix("attribute[") {
            guard allowed.contains(k) else { throw .bad("未知参数 \(k) — unknown parameter \(k)") }
            guard out.updateValue(v.trimmingCharacters(in: .whitespacesAndNewlines), forKey: k) == nil else {
                throw .bad("参数 \(k) 重复 — \(k) is given twice")
            }
        }
        return out.filter { !$0.value.isEmpty }  // the spec: an empty parameter is an absent one
    }

    static func parse(_ pairs: [(String, String)], catalog: Open311Catalog) throws(Refusal) -> Open311Form {
        let p = try single(pairs, allowed: parameters)
        var attributes: [String: [String]] = [:]
        for (k, v) in pairs where k.hasPrefix("attribute[") {
            guard let close = k.firstIndex(of: "]"), k.index(after: k.startIndex) < close else { throw .bad("参数 \(k) 格式不对 — write attribute[code]=value") }
            let code = String(k[k.index(k.startIndex, offsetBy: 10)..<close])
            let rest = k[k.index(after: close)...]
            guard !code.isEmpty, rest.isEmpty || rest == "[]" else { throw .bad("参数 \(k) 格式不对 — write attribute[code]=value") }
            attributes[code, default: []].append(v)
        }
        guard let code = p["service_code"] else { throw .bad("缺少 service_code — service_code is required (GET services lists them)") }
        guard catalog.service(code) != nil else { throw Refusal(status: 404, description: "无此服务类型 \(code) — service_code \(code) was not found (GET services lists them)") }
        func coordinate(_ k: String, _ range: ClosedRange<Double>) throws(Refusal) -> Double? {
            guard let t = p[k] else { return nil }
            guard let d = Double(t), d.isFinite, range.contains(d) else { throw .bad("\(k) 须为 \(range.lowerBound)…\(range.upperBound) 的数 — \(k) \"\(t)\" is not a WGS84 coordinate") }
            return d
        }
        let lat = try coordinate("lat", -90...90), lon = try coordinate("long", -180...180)
        if (lat == nil) != (lon == nil) { throw .bad("lat 和 long 须同时给出 — lat and long are sent together") }
        if lat == nil, p["address_string"] == nil, p["address_id"] == nil {
            throw .bad("缺少位置 — give lat & long, address_string or address_id")
        }
        if let d = p["description"], d.count > 4000 { throw .bad("description 至多 4000 字 — description is limited to 4,000 characters") }
        if let u = p["media_url"] {
            guard let url = URL(string: u), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil, u.utf8.count <= 2048 else {
                throw .bad("media_url 须为 http(s) 地址 — media_url \"\(u)\" is not an http or https URL")
            }
        }
        return Open311Form(serviceCode: code, lat: lat, lon: lon, address: p["address_string"], addressID: p["address_id"], description: p["description"],
                           mediaURL: p["media_url"], firstName: p["first_name"], lastName: p["last_name"], phone: p["phone"],
                           accountID: p["account_id"], attributes: attributes)
    }

    /// The reporter's name in Chinese order: family name first (王 + 小明 → 王小明); with a
    /// space between when either is written in Latin letters (Smith John).
    var reporterName: String? {
        let parts = [lastName, firstName].compactMap { $0 }
        guard !parts.isEmpty else { return nil }
        return parts.joined(separator: parts.contains { $0.unicodeScalars.contains { $0.isASCII && CharacterSet.letters.contains($0) } } ? " " : "")
    }

    /// The SUBMIT's `case` (docs/PROTOCOL.md): the title is the description's first words (the
    /// lists show it), or the service's name when there is no description; the address_id, which
    /// Muster has no register for, is kept in the address.
    func submittedCase(source: Source, ref: String, catalog: Open311Catalog) -> [UInt8] {
        var w = JSONWriter()
        w.field("source", source.rawValue)
        w.field("external_ref", ref)
        w.field("category", serviceCode)
        let text = description ?? ""
        w.field("title", text.isEmpty ? (catalog.service(serviceCode)?.name ?? serviceCode) : String(text.prefix(40)))
        w.field("description", description)
        w.field("priority", Priority.normal.rawValue)
        w.object("location") { l in
            l.field("address", address ?? addressID.map { "地址编号 " + $0 })
            if let lat, let lon { l.field("lat", lat); l.field("lon", lon) }
        }
        if reporterName != nil || phone != nil {
            w.object("reporter") { r in r.field("name", reporterName); r.field("phone", phone) }
        }
        if let mediaURL { w.array("attachments", [{ var a = JSONWriter(); a.field("url", mediaURL); return a.finish() }()]) }
        w.object("open311") { o in
            o.field("service_code", serviceCode)
            o.field("address_id", addressID)
            o.field("account_id", accountID)
            if !attributes.isEmpty {
                o.object("attributes") { a in for k in attributes.keys.sorted() { a.field(JSONWriter.Key(k), attributes[k]!) } }
            }
        }
        return w.finish()
    }

    /// The broker's name for a member of the case → the spec's parameter.
    static func parameter(_ brokerField: String?) -> String {
        switch brokerField ?? "" {
        case "case.location.lat": "lat"
        case "case.location.lon": "long"
        case "case.location.address": "address_string"
        case "case.reporter.phone": "phone"
        case "case.reporter.name": "first_name/last_name"
        case "case.description", "case.title": "description"
        case let f where f.hasPrefix("case.attachments"): "media_url"
        case "case.category": "service_code"
        case let f: f
        }
    }

    /// A w3 datetime (2010-01-01T00:00:00Z, with an offset, fractions allowed), as the spec's
    /// start_date and end_date are written and the broker writes its times.
    static func date(_ text: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: text) { return d }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: text)
    }
}
