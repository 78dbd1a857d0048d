import Foundation
@testable import PetitionOffice
import Testing
@testable import TableImport

/// `muster import petition`'s pure part: a row of the office's register → the registration it
/// POSTs. The reading, state and report are the hotline's (HotlineImportTests); against a real
/// broker and adapter: integration/test_petition_import.py.
@Suite struct PetitionImportTests {
    static let header = ["信访件编号", "登记时间", "信访形式", "信访事项", "地址", "网格", "类别", "被反映单位", "信访人", "身份证号码",
                         "联系电话", "是否匿名", "登记人"]
    static func row(_ over: [String: String] = [:]) -> ExportTable.Row {
        var cells = ["XF-2026-0101", "2026-12-02 09:30", "来访", "门前人行道长期被违章停车占用", "解放路100号", "zz/erqi/jiefanglu",
                     "illegal_parking", "chengguan、gongan", "王五", "11010519491231002X", "13812345678", "", "李登记"]
        for (k, v) in over { cells[header.firstIndex(of: k)!] = v }
        return ExportTable.Row(number: 4, cells: cells)
    }
    static func convert(_ over: [String: String] = [:]) throws -> Result<ImportMapping.Item, ImportMapping.Rejection> {
        var columns = PetitionImport.defaults
        columns.timeFormat = "yyyy-MM-dd HH:mm"
        return PetitionImport.convert(try ImportMapping(columns, header: header), row(over))
    }

    @Test func aRowBecomesTheRegistrationTheOfficeWouldPost() throws {
        let item = try Self.convert().get()
        #expect(item.row == 4 && item.key == "XF-2026-0101")
        let form = try PetitionForm.parse(item.body)
        #expect(form.receivedAt == "2026-12-02T09:30:00+08:00" && form.channel == .visit && form.about == ["chengguan", "gongan"])
        #expect(form.name == "王五" && form.idNumber == "11010519491231002X" && form.phone == "13812345678" && !form.anonymous)
        #expect(form.grid == "zz/erqi/jiefanglu" && form.category == "illegal_parking" && form.title == "门前人行道长期被违章停车占用")
    }

    @Test func aRowNamingNobodyOrSayingAnonymousIsAnonymous() throws {
        let nobody = try PetitionForm.parse(try Self.convert(["信访人": "", "身份证号码": "", "联系电话": ""]).get().body)
        #expect(nobody.anonymous && nobody.name == nil)
        let said = try PetitionForm.parse(try Self.convert(["是否匿名": "是"]).get().body)
        #expect(said.anonymous && said.name == nil && said.idNumber == nil && said.phone == nil, "匿名: nothing of who is sent")
    }

    @Test func aBadRowIsRefusedNamingItsColumn() throws {
        let cases: [([String: String], String, String)] = [
            (["信访形式": "传真"], "channel", "信访形式"),
            (["信访事项": ""], "content", "信访事项"),
            (["登记时间": "12月2日"], "received_at", "登记时间"),
            (["是否匿名": "也许"], "petitioner.anonymous", "是否匿名"),
            (["信访件编号": "XF 2026/1"], "petition_no", "信访件编号"),
        ]
        for (over, field, column) in cases {
            guard case .failure(let r) = try Self.convert(over) else { Issue.record("\(over) was taken"); continue }
            #expect(r.field == field && r.column == column, "\(over): \(r)")
        }
    }
}
