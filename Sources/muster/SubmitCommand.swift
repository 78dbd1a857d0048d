import ArgumentParser
import Foundation
import MusterWire

struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit", abstract: "Submit a case (受理), from flags or a JSON case object in a file or stdin (-).")

    @OptionGroup var peer: PeerOptions
    @Option(help: "A JSON file holding the case object (\"-\" for stdin).") var file: String?
    @Option(help: "Title (标题).") var title: String?
    @Option(help: "Description (描述).") var description: String?
    @Option(help: "Category code; the broker classifies by keywords if absent.") var category: String?
    @Option(help: "Grid path, e.g. zz/erqi/jiefanglu.") var grid: String?
    @Option(help: "Address.") var address: String?
    @Option(help: "urgent, normal or consult.") var priority = "normal"
    @Option(help: "hotline_12345, petition, grid_patrol, citizen_app, inspector, camera, sensor.") var source = "hotline_12345"
    @Option(help: "The id in the source system (default: generated).") var externalRef: String?
    @Option(help: "Reporter's name.") var reporter: String?
    @Option(help: "Reporter's phone.") var phone: String?
    @Flag(help: "Print the raw reply.") var json = false

    func run() async throws {
        let caseBytes: [UInt8]
        if let file {
            let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: file))
            caseBytes = Array(data)
        } else {
            guard let title else { throw ValidationError("give --title (or --file with a case object)") }
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
        print("\(reply.command.rawValue): case \(r["case_id"] as? String ?? "?") — \(r["state"] as? String ?? "?")"
              + ((r["merged_into"] as? String).map { " (merged into \($0) 并案)" } ?? "")
              + ((r["due"] as? String).map { ", due \($0)" } ?? ""))
        print("see it with: muster case \(r["case_id"] as? String ?? "?")")
    }
}
