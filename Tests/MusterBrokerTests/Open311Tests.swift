import Foundation
@testable import HotlineIntake
import MusterConfig
import MusterCore
import Testing

/// The Open311 GeoReport v2 API's pure parts, checked against the spec's own example documents
/// (wiki.open311.org/GeoReport_v2: GET services, POST requests, GET requests, errors) and
/// mySociety's servicerequestupdates (github.com/mysociety/fixmystreet/wiki/Open311-FMS---Proposed-differences-to-Open311).
/// Over HTTP against a real broker: integration/test_open311.py.
@Suite struct Open311Tests {
    static let routing = Routing(
        agencies: [.init(code: "chengguan", name: "城管 urban management"), .init(code: "gongan", name: "公安 police")],
        categories: [.init(code: "street_vending", name: "占道经营", lead: "chengguan", assists: ["gongan"], keywords: ["摆摊", "占道"]),
                     .init(code: "noise", name: "噪声扰民", lead: "gongan")])
    static let catalog = Open311Catalog(routing)

    /// The element names of an XML document, in order (the shape, not the text).
    static func elements(_ xml: String) -> [String] {
        let r = try! NSRegularExpression(pattern: "<([a-z_]+)/?>")
        return r.matches(in: xml, range: NSRange(xml.startIndex..., in: xml)).map { String(xml[Range($0.range(at: 1), in: xml)!]) }
    }

    @Test func servicesHaveTheSpecsShape() throws {
        // The spec's GET services example, its first service: the elements in its order.
        let spec = """
            <?xml version="1.0" encoding="utf-8"?>
            <services>
                <service>
                    <service_code>001</service_code>
                    <service_name>Cans left out 24x7</service_name>
                    <description>Garbage or recycling cans that have been left out for more than 24 hours after collection.</description>
                    <metadata>true</metadata>
                    <type>realtime</type>
                    <keywords>lorem, ipsum, dolor</keywords>
                    <group>sanitation</group>
                </service>
            </services>
            """
        let doc = Self.catalog.document
        let xml = doc.xml()
        #expect(xml.hasPrefix(#"<?xml version="1.0" encoding="utf-8"?>"#))
        #expect(Array(Self.elements(xml).prefix(9)) == Array(Self.elements(spec).prefix(9)))
        #expect(xml.contains("<service_name>占道经营</service_name>") && xml.contains("<group>城管</group>") && xml.contains("<metadata>false</metadata>"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(doc.json())) as? [[String: Any]])
        #expect(Set(json[0].keys) == ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"])
        #expect(json.map { $0["service_code"] as? String } == ["street_vending", "noise"] || json.count == 2)
        #expect(json.first { $0["service_code"] as? String == "street_vending" }?["description"] as? String == "占道经营：主办 城管，协办 公安")
        #expect(String(decoding: Open311Document.definition("noise", .xml), as: UTF8.self).contains("<service_definition>\n  <service_code>noise</service_code>"))
    }

    @Test func xmlIsEscapedAndCarriesNoForbiddenCharacter() {
        #expect(XMLWriter.escape(#"<a href="x">&'</a>"#) == "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;")
        #expect(XMLWriter.escape("井盖\u{0}丢\u{1B}了\r\n\t") == "井盖丢了&#13;\n\t")
        var w = XMLWriter()
        w.start("errors"); w.start("error"); w.element("code", "403"); w.element("description", nil)
        #expect(w.finish() == "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<errors>\n  <error>\n    <code>403</code>\n    <description/>\n  </error>\n</errors>\n")
    }

    @Test func errorsHaveTheSpecsShape() throws {
        // The spec's example: HTTP 403, [{"code":403,"description":"Invalid api_key received -- can't proceed with create_request."}]
        let doc = Open311Document.errors(403, ["Invalid api_key received -- can't proceed with create_request."])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(doc.json())) as? [[String: Any]])
        #expect(json.count == 1 && json[0]["code"] as? Int == 403 && (json[0]["description"] as? String)?.hasPrefix("Invalid api_key") == true)
        #expect(Self.elements(doc.xml()) == ["errors", "error", "code", "description"])
        #expect(doc.xml().contains("can&apos;t proceed"))
    }

    nonisolated(unsafe) static let caseObject: [String: Any] = [
        "case_id": "C0000000001", "source": "citizen_app", "external_ref": "o311-1", "category": "street_vending", "title": "人行道流动摊贩占道经营",
        "address": "解放路与德化街交叉口", "state": "handling", "state_zh": "处置中", "lead": "chengguan",
        "accepted_at": "2026-11-22T08:29:18.020+08:00", "updated_at": "2026-11-22T08:35:00.000+08:00", "resolve_by": "2026-11-27T08:29:18.020+08:00",
    ]
    nonisolated(unsafe) static let dispatches: [[String: Any]] = [["dispatch_id": "D1", "agency": "chengguan", "role": "lead"], ["dispatch_id": "D2", "agency": "gongan", "role": "assist"]]
    nonisolated(unsafe) static let timeline: [[String: Any]] = [
        ["seq": 1, "type": "case.accepted", "at": "2026-11-22T08:29:18.020+08:00", "data": [:]],
        ["seq": 2, "type": "case.dispatched", "at": "2026-11-22T08:29:18.020+08:00", "data": ["dispatch": ["dispatch_id": "D1", "agency": "chengguan", "role": "lead"]]],
        ["seq": 3, "type": "case.dispatched", "at": "2026-11-22T08:29:18.020+08:00", "data": ["dispatch": ["dispatch_id": "D2", "agency": "gongan", "role": "assist"]]],
        ["seq": 4, "type": "clock.scheduled", "at": "2026-11-22T08:29:18.020+08:00", "data": [:]],
        ["seq": 5, "type": "dispatch.acked", "at": "2026-11-22T08:30:00.000+08:00", "data": ["dispatch_id": "D1", "note": "20分钟内到场"]],
        ["seq": 6, "type": "dispatch.acked", "at": "2026-11-22T08:30:01.000+08:00", "data": ["dispatch_id": "D2"]],
        ["seq": 7, "type": "dispatch.progress", "at": "2026-11-22T08:35:00.000+08:00",
         "data": ["dispatch_id": "D1", "note": "已到场，正在劝离", "attachments": [["url": "https://files.example/cg/1.jpg"]]]],
    ]

    @Test func aCaseIsARequestInTheSpecsShape() {
        // The spec's GET requests example, one request: the elements in its order.
        let spec = ["service_requests", "request", "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime", "address", "address_id",
                    "zipcode", "lat", "long", "media_url"]
        let r = Open311Mapping.request(Self.caseObject, timeline: Self.timeline, dispatches: Self.dispatches, catalog: Self.catalog)
        let doc = Open311Document(root: "service_requests", item: "request", records: [r])
        #expect(Self.elements(doc.xml()) == spec)
        let v = Dictionary(r.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
        #expect(v["status"] == .text("open") && v["expected_datetime"] == .text("2026-11-27T08:29:18.020+08:00"))
        #expect(v["status_notes"] == .text("城管处置中：已到场，正在劝离") && v["agency_responsible"] == .text("城管") && v["service_name"] == .text("占道经营"))
        #expect(v["requested_datetime"] == .text("2026-11-22T08:29:18.020+08:00") && v["description"] == .text("人行道流动摊贩占道经营"))
        for (state, status) in [("finished", "closed"), ("verified", "closed"), ("closed", "closed"), ("rejected", "closed"), ("dispatched", "open"), ("triage", "open")] {
            #expect(Open311Mapping.status(ofState: state) == status)
        }
        // A merged report tells the case it joined.
        var merged = Self.caseObject; merged["state"] = "merged"
        var joined = Self.caseObject; joined["case_id"] = "C0000000009"; joined["state"] = "finished"; joined["resolve_by"] = "2026-11-30T00:00:00.000+08:00"
        let m = Dictionary(Open311Mapping.request(merged, joined: joined, catalog: Self.catalog).map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
        #expect(m["status"] == .text("closed") && m["expected_datetime"] == .text("2026-11-30T00:00:00.000+08:00") && m["service_request_id"] == .text("C0000000001"))
    }

    @Test func theTimelineIsTheCallersUpdates() {
        var t = Self.timeline
        t.append(["seq": 8, "type": "case.resolved", "at": "2026-11-22T09:00:00.000+08:00", "data": ["dispatch_id": "D1", "role": "lead", "result": "摊贩已劝离"]])
        t.append(["seq": 9, "type": "case.rework", "at": "2026-11-22T10:00:00.000+08:00", "data": ["passed": false, "note": "仍有摊贩"]])
        t.append(["seq": 10, "type": "case.closed", "at": "2026-11-22T12:00:00.000+08:00", "data": [:]])
        let u = Open311Mapping.updates(Self.caseObject, timeline: t, dispatches: Self.dispatches, catalog: Self.catalog)
        #expect(u.map(\.seq) == [1, 2, 5, 7, 8, 9, 10], "the assist's acts and the clocks are not the caller's")
        #expect(u.map(\.status) == ["open", "open", "open", "open", "closed", "open", "closed"])
        #expect(u[2].description == "城管已签收：20分钟内到场" && u[3].mediaURL == "https://files.example/cg/1.jpg" && u[4].description == "城管已办结：摊贩已劝离")
        // mySociety's example update: the elements in its order.
        let doc = Open311Document(root: "service_request_updates", item: "request_update", records: [u[4].record])
        #expect(Self.elements(doc.xml()) == ["service_request_updates", "request_update", "update_id", "service_request_id", "status",
                                             "updated_datetime", "description", "media_url"])
        #expect(doc.xml().contains("<update_id>8</update_id>") && doc.xml().contains("<media_url/>"))
    }

    static func form(_ s: String) throws(Open311Form.Refusal) -> Open311Form { try Open311Form.parse(Open311Form.pairs(s)!, catalog: catalog) }
    static func refusal(_ s: String) -> Open311Form.Refusal? { do { _ = try form(s); return nil } catch { return error } }

    @Test func thePostedFormBecomesTheCaseOfASubmit() throws {
        // The spec's example POST, with this city's service and a Chinese name.
        let f = try Self.form("api_key=xyz&jurisdiction_id=city.gov&service_code=street_vending&lat=37.76524078&long=-122.4212043&address_string=1234+5th+street&email=smit333%40sfgov.edu&device_id=tt222111&account_id=123456&first_name=%E5%B0%8F%E6%98%8E&last_name=%E7%8E%8B&phone=111111111&description=A+large+sinkhole+is+destroying+the+street&media_url=http%3A%2F%2Ffarm3.static.flickr.com%2F2002%2F2212426634_5ed477a060.jpg&attribute[WHISPAWN]=123456&attribute[WHISDORN]=COISL001")
        let c = try #require(try JSONSerialization.jsonObject(with: Data(f.submittedCase(source: .citizenApp, ref: "o311-ab", catalog: Self.catalog))) as? [String: Any])
        #expect(c["source"] as? String == "citizen_app" && c["external_ref"] as? String == "o311-ab" && c["category"] as? String == "street_vending")
        #expect(c["description"] as? String == "A large sinkhole is destroying the street" && c["title"] as? String == "A large sinkhole is destroying the stree", "the first 40 characters")
        let loc = c["location"] as? [String: Any]
        #expect(loc?["address"] as? String == "1234 5th street" && loc?["lat"] as? Double == 37.76524078 && loc?["lon"] as? Double == -122.4212043)
        #expect(c["reporter"] as? [String: String] == ["name": "王小明", "phone": "111111111"])
        #expect((c["attachments"] as? [[String: String]])?.first?["url"] == "http://farm3.static.flickr.com/2002/2212426634_5ed477a060.jpg")
        #expect(((c["open311"] as? [String: Any])?["attributes"] as? [String: [String]]) == ["WHISPAWN": ["123456"], "WHISDORN": ["COISL001"]])
    }

    @Test func aBadFormIsTheSpecsErrorNamingTheParameter() {
        let cases: [(String, Int, String)] = [
            ("address_string=x", 400, "service_code"), ("service_code=moon&address_string=x", 404, "moon"),
            ("service_code=noise", 400, "lat & long"), ("service_code=noise&lat=34.7", 400, "lat and long"),
            ("service_code=noise&lat=134&long=1", 400, "lat"), ("service_code=noise&address_string=x&colour=red", 400, "colour"),
            ("service_code=noise&address_string=x&media_url=ftp%3A%2F%2Fx", 400, "media_url"),
            ("service_code=noise&address_string=x&phone=1&phone=2", 400, "twice"),
        ]
        for (form, status, mentions) in cases {
            let r = Self.refusal(form)
            #expect(r?.status == status && r?.description.contains(mentions) == true, "\(form): \(String(describing: r))")
        }
        #expect(Self.refusal("service_code=noise&address_id=A17") == nil)
        #expect(Open311Form.parameter("case.location.lon") == "long" && Open311Form.parameter("case.reporter.phone") == "phone")
    }

    @Test func anIdempotencyKeyIsTheSameRequest() {
        #expect(Open311Service.ref(client: "app", idempotencyKey: "k1") == Open311Service.ref(client: "app", idempotencyKey: "k1"))
        #expect(Open311Service.ref(client: "app", idempotencyKey: "k1") != Open311Service.ref(client: "other", idempotencyKey: "k1"))
        #expect(Open311Service.ref(client: "app", idempotencyKey: nil) != Open311Service.ref(client: "app", idempotencyKey: nil))
        #expect(Open311Service.ref(client: "app", idempotencyKey: nil).hasPrefix("o311-"))
        if case .failure(let e) = Open311Service.range(["start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"], defaultSpan: 86_400) {
            #expect(e.description.contains("90"))
        } else { Issue.record("a range over 90 days is refused") }
    }

    @Test func everyBadOpen311SettingIsAnErrorAtItsKey() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muster-open311-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "k1\n".write(toFile: dir.appendingPathComponent("app.key").path, atomically: true, encoding: .utf8)
        let path = dir.appendingPathComponent("hotline.yaml").path
        try """
            adapter: hotline-12345
            name: 12345
            roles: [intake]
            plugin: hotline12345
            settings:
              listen: "127.0.0.1:8720"
              clients: [{name: app, api_key_file: app.key}]
              book: book.db
              open311:
                config: nowhere/muster.yaml
                source: fax
                jurisdiction_id: "zheng zhou"

            """.write(toFile: path, atomically: true, encoding: .utf8)
        let cfg = try AdapterConfig.load(path)
        var errors: [ConfigError] = []
        do { _ = try HotlineIntake.descriptor.make(cfg.settings, .init(adapter: "hotline-12345", agency: nil, name: "12345", logger: AdapterKitTests.logger())) }
        catch { errors = error.errors }
        let keys = errors.map(\.key)
        #expect(keys.contains("settings.open311.config") && keys.contains("settings.open311.source") && keys.contains("settings.open311.jurisdiction_id"), "\(errors)")
        // A misspelt key is refused too (strict decoding).
        try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "source: fax", with: "sorce: citizen_app").write(toFile: path, atomically: true, encoding: .utf8)
        errors = []
        do { _ = try HotlineIntake.descriptor.make(try AdapterConfig.load(path).settings, .init(adapter: "hotline-12345", agency: nil, name: "12345", logger: AdapterKitTests.logger())) }
        catch { errors = error.errors }
        #expect(errors.contains { $0.key.contains("sorce") || $0.message.contains("sorce") }, "\(errors)")
        // The repository's own broker config loads, and gives its categories.
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let (ok, problems) = Open311Settings.load(.init(config: repo.appendingPathComponent("config/muster.yaml").path, source: nil, jurisdiction_id: "zhengzhou"), cfg.settings)
        #expect(problems.isEmpty && ok?.catalog.service("street_vending")?.group == "城管" && ok?.source == .citizenApp, "\(problems)")
    }
}
