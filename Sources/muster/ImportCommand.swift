import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HotlineIntake
import MusterConfig
import PetitionOffice
import TableImport

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import a source system's export through its intake adapter.",
        subcommands: [ImportHotlineCommand.self, ImportPetitionCommand.self])

    static func discussion(_ kind: ImportKind) -> String {
        """
        Columns, the time format and the yes/no words come from the adapter config's settings.import. \
        Rows taken are kept in FILE.import-state.json (a rerun skips them; --restart sends all again: \
        a repeat is the same case); rows refused are listed in FILE.rejected.csv.

        Exit codes: 0 every row taken; 1 some rows rejected (see FILE.rejected.csv); 2 the adapter config \
        is wrong; 64 usage; 65 the file is not a readable export, or its header lacks a required column; \
        66 no such file; 69 the adapter does not answer; 75 the adapter cannot queue now (run again later); \
        77 the adapter refused this client's proof; 81 the broker forbids the adapter to submit.
        """
    }
}

/// `muster import hotline FILE`: a day's work orders from the 12345 platform's CSV/.xlsx export,
/// each row POSTed to the running hotline adapter's intake API as the platform would POST it —
/// so an imported order is durable, idempotent on 工单编号, followed up (回访) and reported back
/// exactly like a live one (Plugins/Hotline/README.md, "Import").
struct ImportHotlineCommand: AsyncParsableCommand {
    static let kind = ImportKind(noun: "hotline adapter", config: "config/plugins/hotline12345.yaml", collection: "/v1/workorders",
                                 target: WorkOrderImport.target, convert: WorkOrderImport.convert)
    static let configuration = CommandConfiguration(
        commandName: "hotline", abstract: "Import the 12345 platform's export (CSV or .xlsx) through the hotline adapter's intake API.",
        discussion: ImportCommand.discussion(kind))

    @OptionGroup var options: ImportOptions

    func run() async throws { try await ImportRun(kind: Self.kind, options: options).run() }
}

/// `muster import petition FILE`: the petition office's register (信访登记簿) from its CSV/.xlsx
/// export, each row POSTed to the running petition adapter's registration API — durable,
/// idempotent on 信访件编号, its repeats merged as a live registration's are (Plugins/Petition/
/// README.md, "Import").
struct ImportPetitionCommand: AsyncParsableCommand {
    static let kind = ImportKind(noun: "petition adapter", config: "config/plugins/petition.yaml", collection: "/v1/petitions",
                                 target: PetitionImport.target, convert: PetitionImport.convert)
    static let configuration = CommandConfiguration(
        commandName: "petition", abstract: "Import the petition office's register (CSV or .xlsx) through the petition adapter's API.",
        discussion: ImportCommand.discussion(kind))

    @OptionGroup var options: ImportOptions

    func run() async throws { try await ImportRun(kind: Self.kind, options: options).run() }
}

/// What one import sends, where: the adapter's plugin, its API's collection, its rows' converter.
struct ImportKind: Sendable {
    /// "hotline adapter": how messages name the adapter.
    let noun: String
    /// The adapter config used when --config is not given.
    let config: String
    /// POST a row here; GET here/KEY says whether the adapter has it.
    let collection: String
    let target: @Sendable (String, String?) throws -> ImportTarget
    let convert: @Sendable (ImportMapping, ExportTable.Row) -> Result<ImportMapping.Item, ImportMapping.Rejection>
}

struct ImportOptions: ParsableArguments {
    @Argument(help: "The export: .csv (UTF-8 with or without BOM, GB18030, UTF-16 with BOM) or .xlsx (its first sheet).")
    var file: String
    @Option(help: "The adapter's config (its listen, clients and settings.import); default config/plugins/hotline12345.yaml or config/plugins/petition.yaml.")
    var config: String?
    @Option(help: "Send as this client of the config (default: the first listed).") var client: String?
    @Option(help: "The API's base URL (default: http:// + the config's listen).") var url: String?
    @Flag(help: "Read and check every row, send nothing, write nothing.") var dryRun = false
    @Flag(help: "Ignore FILE.import-state.json: send every row again (the same key stays the same case).") var restart = false
    @Option(help: "Rows in flight at once (1–16).") var parallel = 4
}

/// One run of an import: every row converted before anything is sent, then sent `parallel` at a
/// time, what was taken saved every 50 rows and at the end, what was refused reported.
struct ImportRun {
    let kind: ImportKind
    let options: ImportOptions

    enum Outcome {
        case taken(row: Int, key: String), already(row: Int, key: String), queued(row: Int, key: String)
        case rejected(ImportReport.Line)
        case stop(CLIFailure)
    }

    func run() async throws {
        let (file, config, parallel) = (options.file, options.config ?? kind.config, options.parallel)
        guard (1...16).contains(parallel) else { throw ValidationError("--parallel must be between 1 and 16") }
        let target: ImportTarget
        do { target = try kind.target(config, options.client) } catch {
            FileHandle.standardError.write(Data("config errors:\n\(error)\n".utf8))
            throw ExitCode(2)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw CLIFailure(.noFile, "no such file: \(file)")
        }
        let table: ExportTable
        do { table = try ExportTable.read(file) } catch { throw CLIFailure(.badFile, error.message) }
        let mapping: ImportMapping
        do { mapping = try ImportMapping(target.columns, header: table.header) } catch {
            throw CLIFailure(.badFile, "\(file): \(error.message) — nothing was sent")
        }
        if !mapping.ignored.isEmpty {
            note("未导入的列 columns not imported: \(mapping.ignored.joined(separator: ", "))")
        }
        let keyLabel = mapping.column(target.columns.schema.key)
        let statePath = ImportState.path(for: file), reportPath = ImportReport.path(for: file)
        var state = ImportState()
        if !options.restart && !options.dryRun {
            do { state = try ImportState.load(statePath) } catch { throw CLIFailure(.badFile, error.message) }
        }

        // Every row converted before anything is sent; a key met before in the file is that item again.
        var report = ImportReport(keyLabel: keyLabel)
        var pending: [ImportMapping.Item] = []
        var skipped = 0, repeats: [(Int, String)] = []
        var firstRow: [String: Int] = [:]
        let doneKeys = Set(state.done.values)
        for row in table.rows {
            if state.isDone(row.number, key: mapping.key(row)) { skipped += 1; continue }
            switch kind.convert(mapping, row) {
            case .failure(let r): report.lines.append(.init(row: row.number, key: mapping.key(row), rejection: r))
            case .success(let item):
                if firstRow[item.key] != nil || doneKeys.contains(item.key) {
                    repeats.append((item.row, item.key))
                } else {
                    firstRow[item.key] = item.row
                    pending.append(item)
                }
            }
        }
        say("\(target.adapter) ← \(file) (\(table.format), \(table.rows.count) rows)")
        if skipped > 0 { say("跳过 \(skipped) 行：上次已导入 — skipping \(skipped) rows taken by an earlier run (\(statePath); --restart sends them again)") }
        if options.dryRun {
            print(summary(taken: pending.count, already: repeats.count, queued: 0, report: report, dryRun: true))
            throw ExitCode(report.lines.isEmpty ? 0 : 1)
        }

        let base = options.url ?? target.base
        let http = IntakeHTTP(base: base, target: target, kind: kind)
        guard await http.healthy() else {
            throw CLIFailure(.unreachable, "the \(kind.noun) does not answer at \(base)/health — is `muster adapter --config \(config)` running? Nothing was sent")
        }
        for (row, key) in repeats { state.done[row] = key }
        var counts = (taken: 0, already: repeats.count, queued: 0)
        var progress = Progress(total: pending.count + repeats.count + report.lines.count)
        progress.done = repeats.count + report.lines.count
        var stopped: CLIFailure?
        var sinceSave = 0
        func save() throws {
            do { try state.save(statePath) } catch { throw CLIFailure(.other, "\(error)") }
        }
        await withTaskGroup(of: Outcome.self) { group in
            var next = pending.makeIterator()
            func start() -> Bool {
                guard stopped == nil, let item = next.next() else { return false }
                group.addTask { await http.send(item, mapping) }
                return true
            }
            for _ in 0..<parallel { if !start() { break } }
            while let outcome = await group.next() {
                switch outcome {
                case .taken(let row, let key): counts.taken += 1; state.done[row] = key
                case .already(let row, let key): counts.already += 1; state.done[row] = key
                case .queued(let row, let key): counts.queued += 1; state.done[row] = key
                case .rejected(let line): report.lines.append(line)
                case .stop(let failure): if stopped == nil { stopped = failure }; continue
                }
                progress.done += 1
                progress.draw(counts.taken, counts.already, counts.queued, report.lines.count)
                sinceSave += 1
                // Every 50 rows: a crash resends at most these (idempotent anyway).
                if sinceSave >= 50 { try? state.save(statePath); sinceSave = 0 }
                _ = start()
            }
        }
        progress.finish(counts.taken, counts.already, counts.queued, report.lines.count)
        try save()
        do {
            if report.lines.isEmpty {
                try? FileManager.default.removeItem(atPath: reportPath)
            } else {
                try report.write(reportPath)
            }
        } catch { throw CLIFailure(.other, "cannot write \(reportPath): \(error)") }
        print(summary(taken: counts.taken, already: counts.already, queued: counts.queued, report: report, dryRun: false))
        if let stopped {
            throw CLIFailure(stopped.kind, "\(stopped.message) — stopped; what was taken is kept in \(statePath), run the same command again to go on")
        }
        if !report.lines.isEmpty { throw ExitCode(1) }
    }

    func summary(taken: Int, already: Int, queued: Int, report: ImportReport, dryRun: Bool) -> String {
        var out = [
            dryRun ? "  可导入 would be sent:  \(taken)" : "  新受理 taken:          \(taken)",
            "  已存在 already there:  \(already)" + (dryRun ? "  (the same \(report.keyLabel) earlier in the file)" : ""),
        ]
        if !dryRun { out.append("  排队   queued (202):   \(queued)" + (queued > 0 ? "  (the broker did not answer in time; the adapter sends them on)" : "")) }
        let where_ = dryRun ? "" : "  → \(ImportReport.path(for: options.file))"
        out.append("  退回   rejected:       \(report.lines.count)" + (report.lines.isEmpty ? "" : where_))
        for l in report.lines.sorted(by: { $0.row < $1.row }).prefix(dryRun ? Int.max : 20) {
            out.append("    第 \(l.row) 行  \(l.key.isEmpty ? "-" : l.key)  \(l.rejection.field): \(l.rejection.reason)")
        }
        if !dryRun, report.lines.count > 20 { out.append("    … \(report.lines.count - 20) more in \(ImportReport.path(for: options.file))") }
        return out.joined(separator: "\n")
    }
}

/// The intake API, signed as the import's client.
struct IntakeHTTP: Sendable {
    let base: String
    let target: ImportTarget
    let kind: ImportKind
    let session = URLSession(configuration: .ephemeral)

    func healthy() async -> Bool {
        guard let u = URL(string: base + "/health") else { return false }
        var r = URLRequest(url: u, timeoutInterval: 10)
        r.httpMethod = "GET"
        return ((try? await session.data(for: r))?.1 as? HTTPURLResponse)?.statusCode == 200
    }

    func call(_ method: String, _ path: String, _ body: [UInt8]) async throws -> (Int, [String: Any]) {
        guard let u = URL(string: base + path) else { throw CLIFailure(.usage, "\(base + path) is not a URL") }
        // A POST may wait the adapter's `wait` for the broker, then answers 202.
        var r = URLRequest(url: u, timeoutInterval: target.wait + 30)
        r.httpMethod = method
        for (k, v) in target.headers(body: body) { r.setValue(v, forHTTPHeaderField: k) }
        if method == "POST" {
            r.setValue("application/json; charset=utf-8", forHTTPHeaderField: "Content-Type")
            r.httpBody = Data(body)
        }
        let (data, response) = try await session.data(for: r)
        let doc = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, doc)
    }

    /// One row's item: already there (the adapter knows its key: live, or imported before), else POSTed.
    func send(_ item: ImportMapping.Item, _ mapping: ImportMapping) async -> ImportRun.Outcome {
        do {
            let (known, _) = try await call("GET", "\(kind.collection)/\(item.key)", [])
            if known == 201 || known == 202 { return .already(row: item.row, key: item.key) }
            if let stop = Self.fatal(known, [:]) { return .stop(stop) }
            let (status, answer) = try await call("POST", kind.collection, item.body)
            switch status {
            case 201: return .taken(row: item.row, key: item.key)
            case 202: return .queued(row: item.row, key: item.key)
            case 422:
                let field = answer["field"] as? String ?? ""
                return .rejected(.init(row: item.row, key: item.key,
                                       rejection: .init(field: field, column: field.isEmpty ? "" : mapping.column(field),
                                                        reason: answer["error"] as? String ?? "422")))
            default:
                if let stop = Self.fatal(status, answer) { return .stop(stop) }
                return .rejected(.init(row: item.row, key: item.key,
                                       rejection: .init(field: "", column: "", reason: "HTTP \(status): \(answer["error"] as? String ?? "")")))
            }
        } catch let e as URLError where e.code == .timedOut {
            return .stop(CLIFailure(.noAnswer, "the \(kind.noun) did not answer row \(item.row) (\(item.key)) within \(Int(target.wait + 30))s: it may have taken it (a rerun asks it first)"))
        } catch {
            return .stop(CLIFailure(.unreachable, "the \(kind.noun) at \(base) stopped answering (row \(item.row)): \(error.localizedDescription)"))
        }
    }

    /// Answers that are about the import, not its row: the run stops.
    static func fatal(_ status: Int, _ answer: [String: Any]) -> CLIFailure? {
        switch status {
        case 401: return CLIFailure(.keyRefused, "the adapter refused the client's proof (401): does it run with this config (the same secret), and are both clocks right (±5 min)?")
        case 503: return CLIFailure(.retryLater, "the adapter cannot queue rows now (503): \(answer["error"] as? String ?? "")")
        case 502 where ["forbidden", "not_registered"].contains(answer["code"] as? String ?? ""):
            return CLIFailure(.notAllowed, "the broker does not let the adapter submit (\(answer["code"] as? String ?? "")): its key's roles in peers.yaml")
        default: return nil
        }
    }
}

/// The progress line on stderr: redrawn in place on a terminal, a line per 100 rows otherwise.
struct Progress {
    let total: Int
    var done = 0
    let terminal = isatty(STDERR_FILENO) == 1

    func line(_ taken: Int, _ already: Int, _ queued: Int, _ rejected: Int) -> String {
        let width = 24, filled = total == 0 ? width : width * done / total
        return "[\(String(repeating: "#", count: filled))\(String(repeating: "-", count: width - filled))] \(done)/\(total)  "
            + "新受理 \(taken) · 已存在 \(already) · 排队 \(queued) · 退回 \(rejected)"
    }

    func draw(_ taken: Int, _ already: Int, _ queued: Int, _ rejected: Int) {
        if terminal {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line(taken, already, queued, rejected)).utf8))
        } else if done % 100 == 0 {
            note(line(taken, already, queued, rejected))
        }
    }

    func finish(_ taken: Int, _ already: Int, _ queued: Int, _ rejected: Int) {
        if terminal { FileHandle.standardError.write(Data(("\r\u{1B}[K" + line(taken, already, queued, rejected) + "\n").utf8)) }
        else if done % 100 != 0 { note(line(taken, already, queued, rejected)) }
    }
}

private func note(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
