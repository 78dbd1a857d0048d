import Foundation
import MusterConfig
import MusterWire
import TableImport

/// One row of the petition office's register (信访登记簿, its CSV/.xlsx export) → the registration
/// POSTed for it (README.md, "Import"), checked as the API checks it (`PetitionForm.parse`). A
/// petitioner is anonymous when 是否匿名 says so, or when the row names nobody.
public enum PetitionImport {
    /// The registration's members a column may fill; the first four are required.
    public static let schema = ImportColumns.Schema(
        fields: ["petition_no", "received_at", "channel", "content", "title", "address", "grid", "category", "about",
                 "petitioner.name", "petitioner.id_number", "petitioner.phone", "petitioner.anonymous", "attachments"],
        required: ["petition_no", "received_at", "channel", "content"],
        booleans: ["petitioner.anonymous"],
        defaults: [
            "petition_no": "信访件编号", "received_at": "登记时间", "channel": "信访形式", "content": "信访事项", "title": "标题",
            "address": "地址", "grid": "网格", "category": "类别", "about": "被反映单位", "petitioner.name": "信访人",
            "petitioner.id_number": "身份证号码", "petitioner.phone": "联系电话", "petitioner.anonymous": "是否匿名", "attachments": "附件",
        ],
        key: "petition_no", time: "received_at")

    public static var defaults: ImportColumns { ImportColumns(schema) }

    /// The running adapter of a petition config, as `muster import petition` calls it.
    public static func target(config: String, client: String?) throws -> ImportTarget {
        try ImportTarget.load(config: config, client: client, plugin: PetitionOffice.descriptor.name) { settings, adapter in
            let s = try PetitionSettings.load(settings, adapter: adapter)
            return .init(host: s.host, port: s.port, clients: s.clients, columns: s.importing, wait: s.wait)
        }
    }

    public static func convert(_ m: ImportMapping, _ row: ExportTable.Row) -> Result<ImportMapping.Item, ImportMapping.Rejection> {
        m.convert(row, body)
    }

    static func body(_ m: ImportMapping, _ row: ExportTable.Row) throws(ImportMapping.Rejection) -> [UInt8] {
        var w = JSONWriter()
        for field in ["petition_no", "channel", "content", "title", "address", "grid", "category"] { w.field(JSONWriter.Key(field), m.cell(field, row)) }
        w.field("received_at", try m.time(row))
        if m.cell("about", row) != nil { w.field("about", m.list("about", row)) }
        let name = m.cell("petitioner.name", row), id = m.cell("petitioner.id_number", row), phone = m.cell("petitioner.phone", row)
        let anonymous = try m.flag("petitioner.anonymous", row) ?? (name == nil && id == nil && phone == nil)
        w.object("petitioner") { p in
            if anonymous { p.field("anonymous", true) } else { p.field("name", name); p.field("id_number", id); p.field("phone", phone) }
        }
        if m.cell("attachments", row) != nil {
            w.array("attachments", m.links("attachments", row))
        }
        let body = w.finish()
        do { _ = try PetitionForm.parse(body) } catch {
            throw m.refuse(error.field, error.message)
        }
        return body
    }
}
