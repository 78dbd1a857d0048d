import ArgumentParser
import Foundation
import MusterCore
import MusterWire

struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit", abstract: "Submit a case (受理), from flags or a JSON case object in a file or stdin (-).")

    @OptionGroup var peer: PeerOptions
    @Option(help: "A JSON file holding the case object (\"-\" for stdin).") var file: String?
    @Option(help: "Title (标题).") var title: String?
    @Option(help: "Description (描述).") var description: String?
    @Option(help: "Category: code or name of routing.yaml (heating_not_warm or 暖气不热); left out, the broker classifies by keywords.") var category: String?
    @Option(help: "Grid path, e.g. zz/erqi/jiefanglu.") var grid: String?
    @Option(help: "Address.") var address: String?
    @Option(help: "urgent 紧急, normal 一般 or consult 咨询.") var priority = "normal"
    @Option(help: "hotline_12345 12345热线, petition 信访, grid_patrol 网格员, citizen_app 市民App, inspector 监督员, camera 视频监控, sensor 物联感知.") var source = "hotline_12345"
    @Option(help: "The id in the source system (default: generated).") var externalRef: String?
    @Option(help: "Reporter's name.") var reporter: String?
    @Option(help: "Reporter's phone.") var phone: String?
    @Flag(help: "Print the raw reply.") var json = false

    func run() async throws {
        let caseBytes: [UInt8]
        if let file {
            caseBytes = try Self.readCase(file)
        } else {
            guard let title else { throw ValidationError("give --title (or --file with a case object)") }
            // Checked here, not at the broker: it would send an unknown category to triage in silence.
            let category = try peer.routing.resolve(self.category, option: "--category", .category)
            let source = try Choices.sources.resolve(self.source), priority = try Choices.priorities.resolve(self.priority)
            var c = JSONWriter()
            c.field("source", source)
            c.field("external_ref", externalRef ?? "cli-\(Int64(Date().timeIntervalSince1970 * 1000))-\(getpid())")
            c.field("category", category)
            c.field("title", title)
            c.field("description", description)
            c.field("priority", priority)
            c.object("location") { l in l.field("grid", grid); l.field("address", address) }
            if reporter != nil || phone != nil {
                c.object("reporter") { r in r.field("name", reporter); r.field("phone", phone); r.field("anonymous", false) }
            }
            let formatter = ISO8601DateFormatter()
            formatter.timeZone = TimeZone(secondsFromGMT: 8 * 3600)
            c.field("reported_at", formatter.string(from: Date()).replacingOccurrences(of: "Z", with: "+08:00"))
            caseBytes = c.finish()
        }
        let reply = try await Peer(peer, roles: [.intake]).request(.submit) { $0.raw("case", caseBytes) }
        if json { print(prettyJSON(reply.body)); return }
        let r = reply.json()
        let state = r["state"] as? String ?? "?"
        print("\(reply.command.rawValue): case \(r["case_id"] as? String ?? "?") — \(state)\(CaseState(rawValue: state).map { " (\($0.chinese))" } ?? "")"
              + ((r["merged_into"] as? String).map { " (merged into \($0) 并案)" } ?? "")
              + ((r["due"] as? String).map { ", due \($0)" } ?? ""))
        print("see it with: muster case \(r["case_id"] as? String ?? "?")")
    }

    /// The case object of --file (or stdin), checked before anything is sent: a file that is
    /// missing or not a JSON object ends the command at once, naming the place.
    static func readCase(_ file: String) throws -> [UInt8] {
        var bytes: [UInt8]
        if file == "-" {
            bytes = Array(FileHandle.standardInput.readDataToEndOfFile())
        } else {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), isDirectory.boolValue {
                throw CLIFailure(.noFile, "\(file) is a directory, not a case file")
            }
            let fd = open(file, O_RDONLY)
            guard fd >= 0 else {
                throw CLIFailure(.noFile, errno == ENOENT ? "no such file: \(file)" : "cannot read \(file): \(String(cString: strerror(errno)))")
            }
            let data = FileHandle(fileDescriptor: fd, closeOnDealloc: true).readDataToEndOfFile()
            bytes = Array(data)
        }
        // Too large whatever it holds: say so before reading 9 MiB of JSON.
        try Peer.checkSize(.submit, bytes)
        // A byte-order mark, as some editors save UTF-8, is not JSON: drop it.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        if let p = JSONCheck.object(bytes) {
            throw CLIFailure(.badFile, "\(file == "-" ? "<stdin>" : file):\(p.line):\(p.column): \(p.message)")
        }
        return bytes
    }
}
