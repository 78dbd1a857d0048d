import Foundation
import MusterCore
import MusterWire

/// Everything the broker runs by, loaded and checked from config/muster.yaml and the files it
/// names (routing.yaml, grids.yaml).
public struct BrokerConfig: Sendable {
    public var name: String
    public var endpoint: String
    public var databasePath: String
    public var synchronous: String
    /// Silence after which peers and broker send HEARTBEAT; 3 silent intervals end a session.
    public var heartbeatMs: Int64
    /// An unreceived push is sent again after this long.
    public var resendAfterMs: Int64
    /// Requests per second and burst per adapter (token bucket); nil: unlimited.
    public var rateLimit: (perSecond: Double, burst: Int)?
    /// CURVE: the broker's secret key and the peers it admits; nil: plain TCP (insecure).
    public var security: Security?

    public struct Security: Sendable {
        public var serverPublicKey: String
        public var serverSecretKey: String
        public var principals: [String: Principal]
        public var peersFile: String
        public init(serverPublicKey: String, serverSecretKey: String, principals: [String: Principal], peersFile: String) {
            self.serverPublicKey = serverPublicKey; self.serverSecretKey = serverSecretKey
            self.principals = principals; self.peersFile = peersFile
        }
    }
    public var rules: Rules
    /// Adapter id → the grid prefixes it serves (grids.yaml `instances`).
    public var instanceJurisdictions: [String: [String]]
    /// Adapter id → the agency grids.yaml `instances` names for it (for checking adapter configs).
    public var instanceAgencies: [String: String]
    /// The files read, for `check-config` to list.
    public var files: [String]

    /// The folder of cn-YYYY.yaml files (sla.yaml's `calendar`), read again on SIGHUP.
    public var calendarFolder: String { files[4] }

    /// The holiday schedules as they are on disk now (SIGHUP: a new year's notice arrived).
    public func loadCalendar() throws(ConfigErrors) -> WorkCalendar {
        try CalendarLoader.load(folder: calendarFolder)
    }

    /// Never refuses: a year without the State Council's notice runs on a provisional schedule
    /// computed from the law. Warns when this year is provisional, or next year is in the last
    /// 60 days of this one (deadlines that cross the new year are marked provisional until the
    /// notice is added and applied with SIGHUP). An error only outside the statutory table.
    public func checkCalendar(today: Date) -> (error: String?, warning: String?) {
        let day = CivilDay(today)
        let calendar = rules.calendar
        guard (try? calendar.isWorkingDay(day)) != nil else {
            return ("no holiday schedule for \(day.year), and the year is outside the statutory table (\(StatutoryHolidays.years)); add config/calendar/cn-\(day.year).yaml", nil)
        }
        if !calendar.isOfficial(day.year) {
            return (nil, "no official holiday schedule for \(day.year): running on a provisional one computed from 全国年节及纪念日放假办法; add config/calendar/cn-\(day.year).yaml (国务院办公厅 节假日安排) and send SIGHUP (muster keys reload)")
        }
        if !calendar.isOfficial(day.year + 1), CivilDay(year: day.year, month: 12, day: 31).ordinal - day.ordinal < 60 {
            return (nil, "no official holiday schedule for \(day.year + 1) yet: deadlines that cross the new year are provisional (computed from the law) until config/calendar/cn-\(day.year + 1).yaml is added and applied (SIGHUP: muster keys reload); they are then recomputed")
        }
        return (nil, nil)
    }

    /// The security section's files — the broker's key file and peers.yaml — resolved, without
    /// reading them (for `muster keys init`); nil when the config has no security section.
    public static func securityFiles(_ path: String) throws(ConfigErrors) -> (serverKey: String, peers: String)? {
        let file = try YAMLFile(path: path).decode(BrokerFile.self)
        guard let s = file.security else { return nil }
        return (ConfigPath.resolve(s.server_key, beside: path), ConfigPath.resolve(s.peers, beside: path))
    }

    /// Loads and checks every file; throws all the problems found, each located. `insecure`
    /// skips the security section (its keys need not exist): `--insecure`, tests, benchmarks.
    public static func load(_ path: String, insecure: Bool = false) throws(ConfigErrors) -> BrokerConfig {
        var errors: [ConfigError] = []
        let main = try YAMLFile(path: path)
        let file = try main.decode(BrokerFile.self)
        func sibling(_ name: String) -> String { ConfigPath.resolve(name, beside: path) }

        func period(_ text: String?, _ keys: [YAMLFile.Key], default d: Period, calendarOnly: Bool = true) -> Period {
            guard let text else { return d }
            guard let p = Period(text) else {
                errors.append(main.error(at: keys, "\"\(text)\" is not a duration (30s, 15m, 2h, 5d, 4wh, 5wd)")); return d
            }
            if calendarOnly, p.seconds == nil {
                errors.append(main.error(at: keys, "working-time units (wh, wd) need the holiday calendar, which is not configured yet")); return d
            }
            return p
        }
        let b = file.broker
        let heartbeat = period(b.heartbeat, [.name("broker"), .name("heartbeat")], default: Period(5, .s))
        let resend = period(b.resend_after, [.name("broker"), .name("resend_after")], default: Period(10, .s))
        let merge = period(b.merge_window, [.name("broker"), .name("merge_window")], default: Period(24, .h))
        if let r = b.rate_limit, r.per_second <= 0 || r.burst < 1 {
            errors.append(main.error(at: [.name("broker"), .name("rate_limit")], "per_second must be > 0 and burst ≥ 1"))
        }
        let sync = (b.synchronous ?? "full").uppercased()
        if !["FULL", "NORMAL", "OFF"].contains(sync) {
            errors.append(main.error(at: [.name("broker"), .name("synchronous")], "must be full, normal or off"))
        }
        let gridsPath = sibling(file.grids ?? "grids.yaml")
        let routingPath = sibling(file.routing ?? "routing.yaml")
        var grids: GridsLoader.Loaded?
        do { grids = try GridsLoader.load(gridsPath) } catch { errors.append(contentsOf: error.errors) }
        var routing: Routing?
        if let grids {
            switch RoutingLoader.load(routingPath, grids: grids.map) {
            case .success(let r): routing = r
            case .failure(let e): errors.append(contentsOf: e.errors)
            }
            for (i, inst) in grids.instances.enumerated() where routing != nil && routing!.agencies[inst.agency] == nil {
                errors.append(ConfigError(file: gridsPath, line: grids.agencyLines[i], key: "instances[\(i)].agency",
                                          message: "unknown agency \"\(inst.agency)\" (not in \(routingPath))\(Spelling.hint(inst.agency, in: routing!.agencies.keys.sorted()))"))
            }
            for (i, units) in grids.unitLines.enumerated() {
                for (j, u) in units.enumerated() where routing != nil && routing!.agencies[u.code] == nil {
                    errors.append(ConfigError(file: gridsPath, line: u.line, key: "dedicated[\(i)].units[\(j)]",
                                              message: "unknown agency \"\(u.code)\" (not in \(routingPath))\(Spelling.hint(u.code, in: routing!.agencies.keys.sorted()))"))
                }
            }
        } else {
            errors.append(contentsOf: RoutingLoader.parseOnly(routingPath))
        }
        let slaPath = sibling(file.sla ?? "sla.yaml")
        var sla: SLAPolicy?
        var calendar: WorkCalendar?
        var calendarFolder = sibling("calendar")
        if let grids, let routing {
            do {
                let loaded = try SLALoader.load(slaPath, routing: routing, grids: grids.map)
                sla = loaded.0
                calendarFolder = loaded.calendarFolder
            } catch { errors.append(contentsOf: error.errors) }
        }
        do { calendar = try CalendarLoader.load(folder: calendarFolder) } catch { errors.append(contentsOf: error.errors) }
        // 智能派单: without the section, the categories' names and keywords alone train it.
        var classifier: TextClassifier?
        var threshold = Rules.defaultThreshold
        var classifierFolder: String?
        if let c = file.classifier {
            if let t = c.threshold {
                if t > 0 && t <= 1 { threshold = t } else {
                    errors.append(main.error(at: [.name("classifier"), .name("threshold")], "\(t) is not a confidence in (0, 1]"))
                }
            }
            if let folder = c.examples.map(sibling), let routing {
                classifierFolder = folder
                do { classifier = try ClassifierLoader.load(folder: folder, routing: routing) } catch {
                    errors.append(contentsOf: error.errors.map { e in
                        // A missing folder is the key's fault: say which key named it.
                        e.file == folder ? main.error(at: [.name("classifier"), .name("examples")], "\(folder): \(e.message)") : e
                    })
                }
            }
        }
        var security: Security?
        if let s = file.security, let routing, !insecure {
            let keyPath = sibling(s.server_key), peersPath = sibling(s.peers)
            do {
                let keys = try KeyFile.readSecret(keyPath)
                let principals = try PeersConfig.load(peersPath, agencies: Set(routing.agencies.keys))
                security = Security(serverPublicKey: keys.public, serverSecretKey: keys.secret, principals: principals, peersFile: peersPath)
            } catch {
                if !FileManager.default.fileExists(atPath: keyPath) {
                    errors.append(main.error(at: [.name("security"), .name("server_key")],
                                             "cannot read \(keyPath): it does not exist (muster keys init --config \(path) makes the broker's and the sample peers' keys; make run does this)"))
                } else {
                    errors.append(contentsOf: error.errors)
                }
            }
        }
        guard errors.isEmpty, let grids, let routing, let sla, let calendar else { throw ConfigErrors(errors: errors) }
        return BrokerConfig(
            name: b.name ?? "muster", endpoint: b.endpoint ?? "tcp://127.0.0.1:7400",
            databasePath: b.db.map(sibling) ?? sibling("../data/muster.db"), synchronous: sync,
            heartbeatMs: Int64((heartbeat.seconds ?? 5) * 1000), resendAfterMs: Int64((resend.seconds ?? 10) * 1000),
            rateLimit: b.rate_limit.map { ($0.per_second, $0.burst) }, security: security,
            rules: Rules(routing: routing, grids: grids.map, sla: sla, calendar: calendar, mergeWindow: merge,
                         classifier: classifier, threshold: threshold),
            instanceJurisdictions: Dictionary(grids.instances.map { ($0.adapter, $0.serves) }, uniquingKeysWith: { a, b in a + b }),
            instanceAgencies: Dictionary(grids.instances.map { ($0.adapter, $0.agency) }, uniquingKeysWith: { a, _ in a }),
            files: [path, routingPath, gridsPath, slaPath, calendarFolder] + (classifierFolder.map { [$0] } ?? []))
    }
}
