import Foundation
@testable import HotlineIntake
import MusterConfig
@testable import TableImport
import Testing
import ZIPFoundation

/// `muster import hotline`'s pure parts: a row of the platform's export → the work order it POSTs,
/// the export read from CSV (UTF-8, BOM, GB18030) and from an .xlsx, the header checked, the
/// state a rerun resumes from, the rejected rows' report, the `import:` settings' errors. Against
/// a real broker and adapter: integration/test_hotline_import.py.
@Suite struct HotlineImportTests {
    static let header = ["工单编号", "来电时间", "诉求类型", "诉求内容", "标题", "地址", "网格", "类别", "联系人", "联系电话",
                         "是否匿名", "是否回访", "是否紧急", "承办单位"]
    static func row(_ number: Int = 2, _ over: [String: String] = [:]) -> ExportTable.Row {
        var cells = ["GD20261202000123", "2026-12-02 09:15:00", "投诉", "解放路有人摆摊占道", "", "二七区解放路100号", "zz/erqi/jiefanglu",
                     "street_vending", "王女士", "13800001111", "否", "是", "", "城管局"]
        for (k, v) in over { cells[header.firstIndex(of: k)!] = v }
        return ExportTable.Row(number: number, cells: cells)
    }
    static func mapping(_ s: ImportColumns = WorkOrderImport.defaults) throws -> ImportMapping { try ImportMapping(s, header: header) }
    static func json(_ o: ImportMapping.Item) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(o.body)) as? [String: Any])
    }
    static func rejection(_ over: [String: String], _ s: ImportColumns = WorkOrderImport.defaults) throws -> ImportMapping.Rejection? {
        if case .failure(let r) = try WorkOrderImport.convert(mapping(s), row(5, over)) { return r }
        return nil
    }
    static func temporary() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muster-import-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func aRowBecomesTheWorkOrderThePlatformWouldPost() throws {
        let m = try Self.mapping()
        #expect(m.ignored == ["承办单位"])
        let order = try WorkOrderImport.convert(m, Self.row(7)).get()
        #expect(order.row == 7 && order.key == "GD20261202000123")
        let o = try Self.json(order)
        #expect(Set(o.keys) == ["order_no", "called_at", "kind", "content", "address", "grid", "category", "contact", "anonymous", "callback"])
        #expect(o["called_at"] as? String == "2026-12-02T09:15:00+08:00" && o["kind"] as? String == "投诉")
        #expect(o["contact"] as? [String: String] == ["name": "王女士", "phone": "13800001111"])
        #expect(o["anonymous"] as? Bool == false && o["callback"] as? Bool == true && o["urgent"] == nil, "an empty 是否紧急 is left out")
        // What the intake API reads from it is what the row says.
        let w = try WorkOrder.parse(order.body)
        #expect(w.address == "二七区解放路100号" && w.category == "street_vending" && w.title == "解放路有人摆摊占道" && w.callback)
    }

    @Test func yesAndNoAreTheExportsWordsAndAnythingElseIsRefusedNamingTheColumn() throws {
        let m = try Self.mapping()
        for (word, value) in [("是", true), ("Y", true), ("y", true), ("1", true), ("TRUE", true), ("否", false), ("n", false), ("0", false)] {
            #expect(try Self.json(WorkOrderImport.convert(m, Self.row(2, ["是否紧急": word])).get())["urgent"] as? Bool == value, "\(word)")
        }
        let r = try #require(try Self.rejection(["是否回访": "也许"]))
        #expect(r.field == "callback" && r.column == "是否回访" && r.reason.contains("也许"))
        var s = WorkOrderImport.defaults
        s.yes = ["有"]; s.no = ["无"]
        #expect(try Self.rejection(["是否回访": "有", "是否匿名": "无"], s) == nil)
        #expect(try Self.rejection(["是否回访": "是", "是否匿名": "无"], s)?.field == "callback", "只认配置的词")
    }

    @Test func timesAreReadInTheConfiguredFormatAsBeijingTime() throws {
        let m = try Self.mapping()
        let bad = try #require(try Self.rejection(["来电时间": "2026/12/02 09:15"]))
        #expect(bad.field == "called_at" && bad.column == "来电时间" && bad.reason.contains("yyyy-MM-dd HH:mm:ss"))
        #expect(try Self.rejection(["来电时间": "2026-13-02 09:15:00"])?.field == "called_at", "no 13th month")
        #expect(try Self.json(WorkOrderImport.convert(m, Self.row(2, ["来电时间": "2026-12-02T01:15:00Z"])).get())["called_at"] as? String == "2026-12-02T09:15:00+08:00",
                "RFC 3339 is taken as well")
        var s = WorkOrderImport.defaults
        s.timeFormat = "yyyy/M/d H:mm"
        #expect(try Self.json(WorkOrderImport.convert(ImportMapping(s, header: Self.header), Self.row(2, ["来电时间": "2026/12/2 9:15"])).get())["called_at"] as? String
                == "2026-12-02T09:15:00+08:00")
        // An Excel date is a number of days since 1899-12-30; only a workbook's number cell is one.
        var serial = Self.row(2, ["来电时间": "46358.385416666664"])
        #expect(try Self.rejection(["来电时间": "46358.385416666664"])?.field == "called_at", "a number in a CSV is not a time")
        serial.numeric = [1]
        #expect(try Self.json(WorkOrderImport.convert(m, serial).get())["called_at"] as? String == "2026-12-02T09:15:00+08:00")
    }

    @Test func aHeaderWithoutARequiredColumnIsRefusedNamingTheColumn() throws {
        var header = Self.header
        header.remove(at: 3)
        #expect(throws: ImportMapping.BadHeader.self) { try ImportMapping(WorkOrderImport.defaults, header: header) }
        do { _ = try ImportMapping(WorkOrderImport.defaults, header: header) } catch {
            #expect(error.message.contains("诉求内容") && error.message.contains("content"), "\(error)")
        }
        do { _ = try ImportMapping(WorkOrderImport.defaults, header: Self.header + ["工单编号"]); Issue.record("a column twice is ambiguous") } catch {
            #expect(error.message.contains("工单编号"))
        }
        // Optional columns may be absent; mapped elsewhere, the header is the configured one.
        var s = WorkOrderImport.defaults
        s.columns["content"] = "问题描述"
        header.insert("问题描述", at: 3)
        let m = try ImportMapping(s, header: header)
        #expect(try Self.json(WorkOrderImport.convert(m, ExportTable.Row(number: 2, cells: Self.row().cells)).get())["content"] as? String == "解放路有人摆摊占道")
        #expect(try ImportMapping(WorkOrderImport.defaults, header: ["工单编号", "来电时间", "诉求类型", "诉求内容"]).index.count == 4)
    }

    @Test func faultsTheIntakeAPIWouldFindAreFoundBeforeSending() throws {
        #expect(try Self.rejection(["诉求内容": "  "]) == .init(field: "content", column: "诉求内容", reason: "“诉求内容”为空 — content is empty"))
        #expect(try Self.rejection(["诉求类型": "投拆"])?.field == "kind")
        #expect(try Self.rejection(["联系电话": ""])?.field == "contact.phone", "a call-back needs a phone")
        #expect(try Self.rejection(["工单编号": "GD 1"])?.field == "order_no")
        // A short row (Excel drops trailing empty cells) lacks only what it lacks.
        let short = ExportTable.Row(number: 3, cells: Array(Self.row().cells.prefix(4)))
        #expect(try Self.json(WorkOrderImport.convert(Self.mapping(), short).get())["callback"] == nil)
    }

    @Test func csvIsReadAsUTF8WithOrWithoutBOMOrAsGB18030() throws {
        let text = "工单编号,来电时间,诉求类型,诉求内容\r\nGD1,2026-12-02 09:15:00,投诉,\"多行\n内容，有逗号\"\r\n\r\nGD2,2026-12-02 09:16:00,咨询,居住证\r\n"
        let plain = try CSVExport.read(Array(text.utf8))
        #expect(plain.format == "UTF-8" && plain.header == ["工单编号", "来电时间", "诉求类型", "诉求内容"])
        #expect(plain.rows.map(\.number) == [2, 4], "the blank row 3 is left out, its number kept")
        #expect(plain.rows[0].cells[3] == "多行\n内容，有逗号")
        let bom = try CSVExport.read([0xEF, 0xBB, 0xBF] + Array(text.utf8))
        #expect(bom.format == "UTF-8 (BOM)" && bom.header.first == "工单编号" && bom.rows == plain.rows)
        let gbBytes = try #require(text.data(using: CSVExport.gb18030))
        #expect(String(validating: Array(gbBytes), as: UTF8.self) == nil, "the test's bytes are not UTF-8")
        let gb = try CSVExport.read(Array(gbBytes))
        #expect(gb.format == "GB18030" && gb.header == plain.header && gb.rows == plain.rows)
        let tabbed = try CSVExport.read(Array("工单编号\t来电时间\t诉求类型\t诉求内容\nGD1\t2026-12-02 09:15:00\t投诉\t井盖丢了, 危险\n".utf8))
        #expect(tabbed.rows[0].cells == ["GD1", "2026-12-02 09:15:00", "投诉", "井盖丢了, 危险"])
        #expect(throws: CSVExport.Failure.self) { try CSVExport.read([0x81, 0x20, 0xFF, 0xFF]) }
        #expect(throws: CSVExport.Failure.self) { try CSVExport.read(Array(",,\n\n".utf8)) }
    }

    /// A workbook as Excel writes one, reduced to the parts the reader needs.
    static func workbook(at url: URL) throws {
        let parts: [(String, String)] = [
            ("[Content_Types].xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>\
                <Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>
                """),
            ("xl/workbook.xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
                <sheets><sheet name="工单" sheetId="1" r:id="rId7"/><sheet name="统计" sheetId="2" r:id="rId8"/></sheets></workbook>
                """),
            ("xl/_rels/workbook.xml.rels", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
                <Relationship Id="rId8" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>\
                <Relationship Id="rId7" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet2.xml"/></Relationships>
                """),
            ("xl/sharedStrings.xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="6" uniqueCount="6">\
                <si><t>工单编号</t></si><si><t>来电时间</t></si><si><t>诉求类型</t></si><si><t>诉求内容</t></si>\
                <si><r><t>井盖</t></r><r><rPr><b/></rPr><t xml:space="preserve">丢了 &amp; 危险</t></r><rPh><t>ふりがな</t></rPh></si><si><t>投诉</t></si></sst>
                """),
            // The first sheet of the workbook is sheet2.xml (rId7); sheet1.xml is another sheet.
            ("xl/worksheets/sheet2.xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>\
                <row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>3</v></c><c r="E1" t="inlineStr"><is><t>联系电话</t></is></c><c r="F1" t="inlineStr"><is><t>是否回访</t></is></c></row>\
                <row r="3"><c r="A3" t="inlineStr"><is><t>GD-X1</t></is></c><c r="B3" s="1"><v>46358.385416666664</v></c><c r="C3" t="s"><v>5</v></c><c r="D3" t="s"><v>4</v></c><c r="E3"><v>13800001111</v></c><c r="F3" t="b"><v>1</v></c></row>\
                <row r="4"><c r="A4" t="str"><f>"GD-"&amp;"X2"</f><v>GD-X2</v></c><c r="B4" t="inlineStr"><is><t>2026-12-02 10:00:00</t></is></c><c r="C4" t="s"><v>5</v></c><c r="D4" t="inlineStr"><is><t>路灯不亮</t></is></c></row>\
                </sheetData></worksheet>
                """),
            ("xl/worksheets/sheet1.xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c t="inlineStr"><is><t>统计</t></is></c></row></sheetData></worksheet>
                """),
        ]
        let archive = try Archive(url: url, accessMode: .create)
        for (path, text) in parts {
            let data = Data(text.utf8)
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
    }

    @Test func anXLSXIsReadFromItsFirstSheetWithSharedAndInlineStringsNumbersAndDates() throws {
        let url = try Self.temporary().appendingPathComponent("day.xlsx")
        try Self.workbook(at: url)
        let t = try ExportTable.read(url.path)
        #expect(t.format == "xlsx (工单)")
        #expect(t.header == ["工单编号", "来电时间", "诉求类型", "诉求内容", "联系电话", "是否回访"])
        #expect(t.rows.map(\.number) == [3, 4], "Excel's row numbers")
        #expect(t.rows[0].cells == ["GD-X1", "46358.385416666664", "投诉", "井盖丢了 & 危险", "13800001111", "1"])
        #expect(t.rows[0].numeric == [1, 4] && t.rows[1].cells.count == 4)
        let m = try ImportMapping(WorkOrderImport.defaults, header: t.header)
        let first = try Self.json(WorkOrderImport.convert(m, t.rows[0]).get())
        #expect(first["called_at"] as? String == "2026-12-02T09:15:00+08:00" && first["callback"] as? Bool == true)
        #expect((first["contact"] as? [String: String])?["phone"] == "13800001111")
        #expect(try Self.json(WorkOrderImport.convert(m, t.rows[1]).get())["order_no"] as? String == "GD-X2")

        let bogus = url.deletingLastPathComponent().appendingPathComponent("bogus.xlsx")
        try Data("工单编号,来电时间".utf8).write(to: bogus)
        #expect(throws: ExportTable.Unreadable.self) { try ExportTable.read(bogus.path) }
        #expect(throws: ExportTable.Unreadable.self) { try ExportTable.read(url.deletingPathExtension().appendingPathExtension("xls").path) }
    }

    @Test func theStateFileRoundTripsAndAnEditedRowIsNotDone() throws {
        let dir = try Self.temporary()
        let path = ImportState.path(for: dir.appendingPathComponent("day.csv").path)
        #expect(path.hasSuffix("day.csv.import-state.json"))
        #expect(try ImportState.load(path) == ImportState(), "no state yet: nothing done")
        let state = ImportState(done: [2: "GD1", 3: "GD2", 40: "GD39"])
        try state.save(path)
        let loaded = try ImportState.load(path)
        #expect(loaded == state && loaded.isDone(3, key: "GD2") && !loaded.isDone(3, key: "GD3") && !loaded.isDone(4, key: "GD2"))
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
        try Data("{\"rows\":".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: ImportState.Unreadable.self) { try ImportState.load(path) }
    }

    @Test func theRejectedRowsReportOpensInExcel() throws {
        let report = ImportReport(keyLabel: "工单编号", lines: [
            .init(row: 9, key: "GD9", rejection: .init(field: "grid", column: "网格", reason: "unknown grid \"zz/x\", say \"why\"")),
            .init(row: 3, key: "=cmd", rejection: .init(field: "content", column: "诉求内容", reason: "“诉求内容”为空")),
        ])
        let bytes = report.csv()
        #expect(bytes.starts(with: [0xEF, 0xBB, 0xBF]))
        let text = try #require(String(validating: bytes.dropFirst(3), as: UTF8.self))
        #expect(text == "行号,工单编号,字段,列名,原因\r\n3,'=cmd,content,诉求内容,“诉求内容”为空\r\n9,GD9,grid,网格,\"unknown grid \"\"zz/x\"\", say \"\"why\"\"\"\r\n")
        // And it reads back as the same rows.
        let back = try CSVExport.read(bytes)
        #expect(back.rows.map { $0.cells[0] } == ["3", "9"] && back.rows[1].cells[4] == "unknown grid \"zz/x\", say \"why\"")
    }

    @Test func theImportSectionIsDecodedStrictlyWithErrorsAtTheirKeys() throws {
        let dir = try Self.temporary()
        try "s3cret\n".write(to: dir.appendingPathComponent("platform.secret"), atomically: true, encoding: .utf8)
        func load(_ section: String) throws -> Result<ImportColumns, ConfigErrors> {
            let path = dir.appendingPathComponent("hotline-\(UUID().uuidString).yaml").path
            try """
                adapter: hotline-12345
                name: 12345
                roles: [intake]
                plugin: hotline12345
                settings:
                  listen: "127.0.0.1:8720"
                  clients: [{name: platform, secret_file: platform.secret}]
                \(section)
                """.write(toFile: path, atomically: true, encoding: .utf8)
            do { return .success(try HotlineSettings.load(try AdapterConfig.load(path).settings, adapter: "hotline-12345").importing) }
            catch { return .failure(error) }
        }
        #expect(try load("").get() == WorkOrderImport.defaults)
        let good = try load("""
              import:
                columns: {content: 问题描述, contact.phone: 手机}
                time_format: "yyyy/M/d H:mm"
                yes: [是, 有]
                no: [否, 无]
            """).get()
        #expect(good.columns["content"] == "问题描述" && good.columns["contact.phone"] == "手机" && good.columns["order_no"] == "工单编号")
        #expect(good.timeFormat == "yyyy/M/d H:mm" && good.yes == ["是", "有"] && good.no == ["否", "无"])
        guard case .failure(let e) = try load("""
              import:
                columns: {contact.mobile: 手机, title: 诉求内容}
                time_format: "HH:mm"
                yes: [是, Y]
                no: [y]
                colour: red
            """) else { Issue.record("a bad import section was taken"); return }
        let keys = e.errors.map { "\($0.line ?? 0) \($0.key)" }
        #expect(keys.contains("13 settings.import.colour"), "\(keys)")
        guard case .failure(let e) = try load("""
              import:
                columns: {contact.mobile: 手机, title: 诉求内容}
                time_format: "HH:mm"
                yes: [是, Y]
                no: [y]
            """) else { Issue.record("a bad import section was taken"); return }
        let found = e.errors.map { "\($0.line ?? 0) \($0.key)" }
        #expect(found.contains("9 settings.import.columns.contact.mobile") && found.contains("9 settings.import.columns.title")
                && found.contains("10 settings.import.time_format") && found.contains("12 settings.import.no"), "\(found) \(e)")
    }
}
