import Foundation
import Testing
@testable import MusterConfig
import MusterCore

/// Strict config: a misspelled key, a repeated key or a name that refers to nothing elsewhere is
/// an error with file, line and key path — never obeyed or ignored in silence.
@Suite struct StrictConfigTests {
    /// One mistake: the first occurrence of `find` in `file` (under config/) becomes `replace`,
    /// a one-line edit. The error expected is in that file, on the edited line, at `key`, and its
    /// message contains `message`.
    struct Mistake: Sendable, CustomTestStringConvertible {
        var file: String
        var find: String
        var replace: String
        var key: String
        var message: String
        var testDescription: String { "\(file): \(replace.trimmingCharacters(in: .whitespaces))" }
    }

    static let mistakes: [Mistake] = [
        // Unknown keys, with the nearest valid key at that place.
        Mistake(file: "sla.yaml", find: "category: [road_cleaning]", replace: "catgory: [road_cleaning]",
                key: "rules[6].catgory", message: "unknown key `catgory`; did you mean `category`?"),
        Mistake(file: "routing.yaml", find: "fallbacks: [chengguan]", replace: "fallback: [chengguan]",
                key: "categories[0].fallback", message: "unknown key `fallback`; did you mean `fallbacks`?"),
        Mistake(file: "routing.yaml", find: "keywords: [道路塌陷", replace: "keyword: [道路塌陷",
                key: "categories[0].keyword", message: "unknown key `keyword`; did you mean `keywords`?"),
        Mistake(file: "routing.yaml", find: "contacts_reporters: true ", replace: "contact_reporters: true ",
                key: "agencies[1].contact_reporters", message: "unknown key `contact_reporters`; did you mean `contacts_reporters`?"),
        Mistake(file: "muster.yaml", find: "resend_after: 10s", replace: "resend_afer: 10s",
                key: "broker.resend_afer", message: "unknown key `resend_afer`; did you mean `resend_after`?"),
        Mistake(file: "muster.yaml", find: "grids: grids.yaml", replace: "grid: grids.yaml",
                key: "grid", message: "unknown key `grid`; did you mean `grids`?"),
        Mistake(file: "muster.yaml", find: "burst: 50000}", replace: "burst: 50000, burts: 1}",
                key: "broker.rate_limit.burts", message: "unknown key `burts`; did you mean `burst`?"),
        Mistake(file: "sla.yaml", find: "ack_within: 1h ", replace: "ack_witin: 1h ",
                key: "defaults.ack_witin", message: "unknown key `ack_witin`; did you mean `ack_within`?"),
        Mistake(file: "sla.yaml", find: "ack_within: 10m", replace: "ack_witin: 10m",
                key: "modes.major_event.ack_witin", message: "unknown key `ack_witin`; did you mean `ack_within`?"),
        Mistake(file: "sla.yaml", find: "ack_within: 15d", replace: "ack_witin: 15d",
                key: "rules[1].ack_witin", message: "unknown key `ack_witin`; did you mean `ack_within`?"),
        Mistake(file: "sla.yaml", find: "scale: 0.25", replace: "scal: 0.25",
                key: "modes.emergency.scal", message: "unknown key `scal`; did you mean `scale`?"),
        Mistake(file: "adapters/chengguan.yaml", find: "sign_after: 200ms", replace: "sign_afer: 200ms",
                key: "downstream.sign_afer", message: "unknown key `sign_afer`; did you mean `sign_after`?"),
        Mistake(file: "calendar/cn-2026.yaml", find: "workdays: [2026-01-04]", replace: "workday: [2026-01-04]",
                key: "holidays[0].workday", message: "unknown key `workday`; did you mean `workdays`?"),
        // Nothing close: the keys valid there are listed.
        Mistake(file: "peers.yaml", find: "agencies: [chengguan]", replace: "agency: [chengguan]",
                key: "peers[0].agency", message: "unknown key `agency`; valid here: adapters, agencies, name, public_key, public_key_file, roles"),
        // A misspelled required key: the missing key, at the line of its likely misspelling.
        Mistake(file: "routing.yaml", find: "- grid: zz/jinshui", replace: "- gird: zz/jinshui",
                key: "categories[10].overrides[0].grid", message: "required key is missing; is `gird`"),
        // Repeated keys, at the repeat, in a block and in a flow mapping.
        Mistake(file: "muster.yaml", find: "  resend_after: 10s", replace: "  heartbeat: 10s",
                key: "broker.heartbeat", message: "duplicate key `heartbeat` (first at line"),
        Mistake(file: "routing.yaml", find: "    fallbacks: [chengguan]", replace: "    lead: chengguan",
                key: "categories[0].lead", message: "duplicate key `lead`"),
        Mistake(file: "sla.yaml", find: "{at: 75%, notice: remind, to: [ops], level: 1}", replace: "{at: 75%, notice: remind, to: [ops], at: 50%}",
                key: "ladders.triage[0].at", message: "duplicate key `at`"),
        // Values outside a closed vocabulary.
        Mistake(file: "grids.yaml", find: "level: street", replace: "level: stret",
                key: "grids[2].level", message: "unknown level \"stret\"; did you mean \"street\"?"),
        // A map outline (`area`, for muster web) that is no polygon.
        Mistake(file: "grids.yaml", find: "area: [[113.655, 34.750], [113.664, 34.750], [113.664, 34.760], [113.655, 34.761]]",
                replace: "area: [[113.655, 34.750], [113.664, 34.750]]", key: "grids[2].area", message: "an area needs at least 3 corners"),
        Mistake(file: "grids.yaml", find: "area: [[113.655, 34.750], [113.664, 34.750], [113.664, 34.760], [113.655, 34.761]]",
                replace: "area: [[113.655, 34.750], [34.750, 113.664, 1], [113.664, 34.760]]", key: "grids[2].area[1]", message: "a corner is [lon, lat]"),
        Mistake(file: "sla.yaml", find: "{at: 75%, notice: remind, to: [ops], level: 1}", replace: "{at: 75%, notice: remind, to: [opps], level: 1}",
                key: "ladders.triage[0].to[0]", message: "unknown role \"opps\"; did you mean \"ops\"?"),
        Mistake(file: "sla.yaml", find: "  triage:\n", replace: "  triag:\n",
                key: "ladders.triag", message: "unknown clock \"triag\"; did you mean \"triage\"?"),
        Mistake(file: "sla.yaml", find: "  major_event:\n", replace: "  major_evnt:\n",
                key: "modes.major_evnt", message: "unknown mode \"major_evnt\"; did you mean \"major_event\"?"),
        Mistake(file: "sla.yaml", find: "source: petition", replace: "mode: emergncy",
                key: "rules[1].mode[0]", message: "unknown mode \"emergncy\"; did you mean \"emergency\"?"),
        Mistake(file: "adapters/chengguan.yaml", find: "roles: [agency]", replace: "roles: [agancy]",
                key: "roles[0]", message: "unknown role \"agancy\"; did you mean \"agency\"?"),
        // References across files.
        Mistake(file: "adapters/chengguan.yaml", find: "agency: chengguan", replace: "agency: yuanlim",
                key: "agency", message: "unknown agency \"yuanlim\" (not in routing.yaml)"),
        Mistake(file: "adapters/gongan.yaml", find: "agency: gongan", replace: "agency: chengguan",
                key: "agency", message: "grids.yaml lists adapter gongan-sim-1 as an instance of agency gongan, not chengguan"),
        Mistake(file: "adapters/chengguan.yaml", find: "window: 1000", replace: "jurisdictions: [zz/erqi/jiefanglu, erqita, zz/erqii]",
                key: "jurisdictions[2]", message: "unknown grid \"zz/erqii\" (not in grids.yaml)"),
        Mistake(file: "sla.yaml", find: "heating_leak]", replace: "heating_leek]",
                key: "modes.emergency.whistle_categories[2]", message: "unknown category \"heating_leek\"; did you mean \"heating_leak\"?"),
        Mistake(file: "sla.yaml", find: "category: [road_cleaning]", replace: "category: [road_cleanin]",
                key: "rules[6].category[0]", message: "\"road_cleanin\" matches no category in routing.yaml"),
        Mistake(file: "routing.yaml", find: "assists: [gongan, jiaotong]", replace: "assists: [gongan, jiaotongg]",
                key: "categories[0].assists[1]", message: "unknown agency \"jiaotongg\"; did you mean \"jiaotong\"?"),
        Mistake(file: "routing.yaml", find: "fallbacks: [chengguan]", replace: "fallbacks: [chengguang]",
                key: "categories[0].fallbacks[0]", message: "unknown agency \"chengguang\"; did you mean \"chengguan\"?"),
        Mistake(file: "routing.yaml", find: "- grid: zz/jinshui", replace: "- grid: zz/jinshuii",
                key: "categories[10].overrides[0].grid", message: "unknown grid \"zz/jinshuii\""),
        Mistake(file: "grids.yaml", find: "- zz/erqi/jiefanglu ", replace: "- zz/erqi/jiefangluu ",
                key: "dedicated[0].members[0]", message: "unknown grid \"zz/erqi/jiefangluu\""),
        Mistake(file: "grids.yaml", find: "agency: chengguan", replace: "agency: chengguang",
                key: "instances[0].agency", message: "unknown agency \"chengguang\""),
        Mistake(file: "peers.yaml", find: "agencies: [chengguan]", replace: "agencies: [chengguann]",
                key: "peers[0].agencies[0]", message: "unknown agency \"chengguann\"; did you mean \"chengguan\"?"),
        // The whistle's config: a dedicated grid's units, the whistle ladder's recipients, a simulated department's report.
        Mistake(file: "grids.yaml", find: "units: [chengguan, gongan,", replace: "units: [chengguan, gonan,",
                key: "dedicated[0].units[1]", message: "unknown agency \"gonan\" (not in"),
        Mistake(file: "sla.yaml", find: "to: [district, ops]", replace: "to: [distrct, ops]",
                key: "ladders.whistle[2].to[0]", message: "unknown recipient \"distrct\"; did you mean \"district\"?"),
        Mistake(file: "sla.yaml", find: "{at: 75%, notice: remind, to: [ops], level: 1}", replace: "{at: 75%, notice: remind, to: [street], level: 1}",
                key: "ladders.triage[0].to[0]", message: "unknown role \"street\""),
        Mistake(file: "sla.yaml", find: "{at: -10m, notice: remind", replace: "{at: -10wd, notice: remind",
                key: "ladders.whistle[0].at", message: "-DURATION (s, m, h, d) before it"),
        Mistake(file: "sla.yaml", find: "whistle_within: 30m", replace: "whistle_within: 1wd",
                key: "defaults.whistle_within", message: "\"1wd\" is not a clock time between 1s and 24h"),
        Mistake(file: "sla.yaml", find: "ack_within: 10m", replace: "whistle_within: 10m",
                key: "modes.major_event.whistle_within", message: "whistle_within is set under defaults only"),
        Mistake(file: "adapters/chengguan.yaml", find: "report_after: 3s", replace: "report_after: soon",
                key: "downstream.report_after", message: "\"soon\" is not a duration like 200ms, 2s, 1m"),
    ]

    /// What `muster check-config` reports for a config folder: the broker's files (the security
    /// section too, its key files written here) and every adapter, against the broker's files
    /// when those loaded.
    static func check(_ dir: URL) throws -> [ConfigError] {
        try SecurityConfigTests.writeKeys(["broker"] + SecurityConfigTests.samplePeers, under: dir)
        var errors: [ConfigError] = []
        var broker: BrokerConfig?
        do { broker = try BrokerConfig.load(dir.appendingPathComponent("muster.yaml").path) } catch { errors += error.errors }
        let adapters = dir.appendingPathComponent("adapters")
        for name in try FileManager.default.contentsOfDirectory(atPath: adapters.path).filter({ $0.hasSuffix(".yaml") }).sorted() {
            let path = adapters.appendingPathComponent(name).path
            do {
                if let broker { _ = try AdapterConfig.load(path, against: broker) } else { _ = try AdapterConfig.load(path) }
            } catch { errors += error.errors }
        }
        return errors
    }

    @Test(arguments: mistakes) func eachMistakeIsReportedWithFileLineAndKey(_ m: Mistake) throws {
        let original = try String(contentsOf: ConfigTests.shipped.appendingPathComponent(m.file), encoding: .utf8)
        let found = try #require(original.range(of: m.find), "the shipped \(m.file) no longer has \(m.find)")
        let line = original[..<found.lowerBound].filter { $0 == "\n" }.count + 1
        let dir = try ConfigTests.copy(editing: m.file) { $0.replacingCharacters(in: found, with: m.replace) }
        let errors = try Self.check(dir)
        let e = try #require(errors.first { $0.key == m.key }, "no error at \(m.key) among:\n\(ConfigErrors(errors: errors))")
        #expect((e.file as NSString).standardizingPath == (dir.appendingPathComponent(m.file).path as NSString).standardizingPath)
        #expect(e.line == line)
        #expect(e.message.contains(m.message), "\(e.message)")
    }

    @Test func theShippedConfigHasNoUnknownKeysOrBrokenReferences() throws {
        let shipped = ConfigTests.shipped
        let broker = try BrokerConfig.load(shipped.appendingPathComponent("muster.yaml").path, insecure: true)
        for name in ["chengguan", "gongan", "zhujian", "reli", "gongshui", "jiaotong", "shichang", "hotline12345"] {
            _ = try AdapterConfig.load(shipped.appendingPathComponent("adapters/\(name).yaml").path, against: broker)
        }
        let errors = try Self.check(try ConfigTests.copy())
        #expect(errors.isEmpty, "\(ConfigErrors(errors: errors))")
    }

    @Test func aRepeatedKeyNamesBothLines() throws {
        // The same key three times in one mapping: each repeat is reported, pointing at the first.
        let dir = try ConfigTests.copy(editing: "grids.yaml") {
            $0.replacingOccurrences(of: "    name: 郑州市\n", with: "    name: 郑州市\n    name: 郑州\n    name: 郑\n")
        }
        let text = try String(contentsOf: dir.appendingPathComponent("grids.yaml"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let first = try #require(lines.firstIndex { $0 == "    name: 郑州市" }) + 1
        let errors = try Self.check(dir)
        #expect(errors.map(\.line) == [first + 1, first + 2], "\(errors)")
        #expect(errors.allSatisfy { $0.key == "grids[0].name" && $0.message.contains("first at line \(first)") })
    }

    @Test func keysYamsTellsApartButDecodingDoesNotAreRepeats() throws {
        // `1` is an integer key and `"1"` a string to YAML; to a Swift key both are "1".
        let dir = try ConfigTests.copy(editing: "sla.yaml") { $0.replacingOccurrences(of: "  normal: {}\n", with: "  normal: {}\n  1: {}\n  \"1\": {}\n") }
        let e = try #require(try Self.check(dir).first { $0.message.contains("duplicate key `1`") })
        #expect(e.key == "modes.1" && e.file.hasSuffix("sla.yaml"))
    }

    @Test func suggestionsComeFromTheKeysValidAtThatPlace() {
        #expect(Spelling.nearest("catgory", in: ["category", "name", "priority"]) == "category")
        #expect(Spelling.nearest("ack_witin", in: ["ack_within", "return_within"]) == "ack_within")
        #expect(Spelling.nearest("zzz", in: ["category", "name"]) == nil, "nothing close: no guess")
        #expect(KeyLedger.unknownKeyMessage("x", valid: ["b", "a"]) == "unknown key `x`; valid here: a, b")
        #expect(KeyLedger.unknownKeyMessage("x", valid: []) == "unknown key `x`: nothing is read here")
    }
}
