import Foundation
import MusterWire
import TableImport

/// One row of the 12345 platform's export → the work order POSTed for it (README.md, "Import"),
/// checked as the intake API checks it (`WorkOrder.parse`), so a dry run finds every fault the
/// adapter would, but those only the broker knows (an unknown grid, a phone).
public enum WorkOrderImport {
    /// The work order's members a column may fill; the first four are required.
    public static let schema = ImportColumns.Schema(
        fields: ["order_no", "called_at", "kind", "content", "title", "address", "grid", "category",
                 "contact.name", "contact.phone", "anonymous", "callback", "urgent", "lat", "lon", "attachments"],
        required: ["order_no", "called_at", "kind", "content"],
        booleans: ["anonymous", "callback", "urgent"],
        defaults: [
            "order_no": "工单编号", "called_at": "来电时间", "kind": "诉求类型", "content": "诉求内容", "title": "标题", "address": "地址",
            "grid": "网格", "category": "类别", "contact.name": "联系人", "contact.phone": "联系电话", "anonymous": "是否匿名",
            "callback": "是否回访", "urgent": "是否紧急", "lat": "纬度", "lon": "经度", "attachments": "附件",
        ],
        key: "order_no", time: "called_at")

    public static var defaults: ImportColumns { ImportColumns(schema) }

    /// The running adapter of a hotline12345 config, as `muster import hotline` calls it.
    public static func target(config: String, client: String?) throws -> ImportTarget {
        try ImportTarget.load(config: config, client: client, plugin: HotlineIntake.descriptor.name) { settings, adapter in
            let s = try HotlineSettings.load(settings, adapter: adapter)
            return .init(host: s.host, port: s.port, clients: s.clients, columns: s.importing, wait: s.wait)
        }
    }

    public static func convert(_ m: ImportMapping, _ row: ExportTable.Row) -> Result<ImportMapping.Item, ImportMapping.Rejection> {
        m.convert(row, body)
    }

    static func body(_ m: ImportMapping, _ row: ExportTable.Row) throws(ImportMapping.Rejection) -> [UInt8] {
        var w = JSONWriter()
        for field in ["order_no", "kind", "content", "title", "address", "grid", "category"] { w.field(JSONWriter.Key(field), m.cell(field, row)) }
        w.field("called_at", try m.time(row))
        for field in schema.fields where schema.booleans.contains(field) {
            if let yes = try m.flag(field, row) { w.field(JSONWriter.Key(field), yes) }
        }
        for field in ["lat", "lon"] {
            if let n = try m.number(field, row) { w.field(JSONWriter.Key(field), n) }
        }
        let name = m.cell("contact.name", row), phone = m.cell("contact.phone", row)
        if name != nil || phone != nil { w.object("contact") { c in c.field("name", name); c.field("phone", phone) } }
        if m.cell("attachments", row) != nil {
            w.array("attachments", m.links("attachments", row))
        }
        let body = w.finish()
        do { _ = try WorkOrder.parse(body) } catch {
            throw m.refuse(error.field, error.message)
        }
        return body
    }
}
