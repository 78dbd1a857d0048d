import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import ZIPFoundation

/// An export as an Excel workbook (.xlsx: a zip of XML parts, ZIPFoundation): the
/// first sheet of xl/workbook.xml, found through xl/_rels/workbook.xml.rels (xl/worksheets/
/// sheet1.xml when those say nothing), with its cells' shared strings (xl/sharedStrings.xml),
/// inline strings, numbers and booleans as the file stores them. Formulas give their cached
/// value; styles (and so how a date looks) are not read: a number is kept as its digits, and the
/// import turns one in a time column into a time (`ImportMapping`).
enum XLSXExport {
    /// A part larger than this is refused rather than inflated (a day's export is a few MB).
    static let partLimit = 256 << 20

    static func read(_ path: String) throws(ExportTable.Unreadable) -> ExportTable {
        let archive: Archive
        do { archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read) } catch {
            throw .init(FileManager.default.fileExists(atPath: path) ? "\(path): 不是 .xlsx 文件 — not a zip archive (\(error))" : "cannot read \(path)")
        }
        func part(_ name: String) throws(ExportTable.Unreadable) -> Data? {
            guard let entry = archive[name] else { return nil }
            guard entry.uncompressedSize <= partLimit else { throw .init("\(path): \(name) is over \(partLimit >> 20) MiB") }
            var data = Data()
            do { _ = try archive.extract(entry) { data.append($0) } } catch { throw .init("\(path): \(name) cannot be read: \(error)") }
            return data
        }
        let (sheetName, sheetPath) = try firstSheet(try part("xl/workbook.xml"), rels: try part("xl/_rels/workbook.xml.rels"))
        guard let sheet = try part(sheetPath) else { throw .init("\(path): 没有工作表 — the workbook has no \(sheetPath)") }
        var strings: [String] = []
        if let data = try part("xl/sharedStrings.xml") {
            let p = SharedStringsParser()
            guard p.parse(data) else { throw .init("\(path): xl/sharedStrings.xml is not XML: \(p.problem)") }
            strings = p.strings
        }
        let p = SheetParser(strings: strings)
        guard p.parse(sheet) else { throw .init("\(path): \(sheetPath) is not a worksheet: \(p.problem)") }
        return try ExportTable.make(p.rows, format: "xlsx (\(sheetName ?? "sheet1"))")
    }

    /// The name and part of the workbook's first sheet.
    static func firstSheet(_ workbook: Data?, rels: Data?) throws(ExportTable.Unreadable) -> (String?, String) {
        let fallback = "xl/worksheets/sheet1.xml"
        guard let workbook else { return (nil, fallback) }
        let sheets = ElementsParser(["sheet"])
        guard sheets.parse(workbook) else { throw .init("xl/workbook.xml is not XML: \(sheets.problem)") }
        guard let first = sheets.found.first else { throw .init("没有工作表 — xl/workbook.xml lists no sheet") }
        guard let id = first["r:id"] ?? first.first(where: { $0.key.hasSuffix(":id") })?.value, let rels else { return (first["name"], fallback) }
        let links = ElementsParser(["Relationship"])
        guard links.parse(rels) else { throw .init("xl/_rels/workbook.xml.rels is not XML: \(links.problem)") }
        guard let target = links.found.first(where: { $0["Id"] == id })?["Target"] else { return (first["name"], fallback) }
        // Relative to xl/, or absolute within the package.
        return (first["name"], target.hasPrefix("/") ? String(target.dropFirst()) : "xl/" + target)
    }

    /// A1-style reference → column index from 0 ("B7" → 1); nil when it has no letters.
    static func column(_ reference: String) -> Int? {
        var n = 0, letters = 0
        for u in reference.unicodeScalars {
            guard ("A"..."Z").contains(u) else { break }
            n = n * 26 + Int(u.value - 64); letters += 1
        }
        return letters == 0 || letters > 3 ? nil : n - 1
    }

    class Parser: NSObject, XMLParserDelegate {
        var problem = ""
        func parse(_ data: Data) -> Bool {
            let p = XMLParser(data: data)
            p.delegate = self
            p.shouldResolveExternalEntities = false
            let ok = p.parse()
            if !ok { problem = p.parserError.map { "\($0)" } ?? "unknown error" }
            return ok && problem.isEmpty
        }
        // Here, not only in the subclasses: on Linux the protocol's default implementations would
        // otherwise be the witnesses, and the subclasses' methods never called.
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {}
        func parser(_ parser: XMLParser, foundCharacters string: String) {}
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {}
    }

    /// The attributes of every element with one of these names, in document order.
    final class ElementsParser: Parser {
        let names: Set<String>
        var found: [[String: String]] = []
        init(_ names: Set<String>) { self.names = names }
        override func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            if names.contains(name) { found.append(attributes) }
        }
    }

    /// Each `<si>`: its text, or its runs' texts joined; phonetic guides (`<rPh>`) left out.
    final class SharedStringsParser: Parser {
        var strings: [String] = []
        private var current: String?
        private var inText = false, inPhonetic = false
        override func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            switch name {
            case "si": current = ""
            case "rPh": inPhonetic = true
            case "t": inText = !inPhonetic
            default: break
            }
        }
        override func parser(_ parser: XMLParser, foundCharacters string: String) { if inText { current? += string } }
        override func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            switch name {
            case "si": strings.append(current ?? ""); current = nil
            case "rPh": inPhonetic = false
            case "t": inText = false
            default: break
            }
        }
    }

    /// The rows of a worksheet, by their row numbers, each cell at its column.
    final class SheetParser: Parser {
        let strings: [String]
        var rows: [(number: Int, cells: [String], numeric: Set<Int>)] = []
        private var row: (number: Int, cells: [Int: String], numeric: Set<Int>)?
        private var cell: (column: Int, type: String, text: String)?
        private var inValue = false, inPhonetic = false
        init(strings: [String]) { self.strings = strings }

        override func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            switch name {
            case "row":
                row = (attributes["r"].flatMap(Int.init) ?? (rows.last?.number ?? 0) + 1, [:], [])
            case "c":
                let next = (row?.cells.keys.max() ?? -1) + 1
                cell = (attributes["r"].flatMap(XLSXExport.column) ?? next, attributes["t"] ?? "n", "")
            case "v": inValue = true
            case "rPh": inPhonetic = true
            case "t": inValue = cell?.type == "inlineStr" && !inPhonetic
            default: break
            }
        }
        override func parser(_ parser: XMLParser, foundCharacters string: String) { if inValue { cell?.text += string } }
        override func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            switch name {
            case "v", "t": inValue = false
            case "rPh": inPhonetic = false
            case "c":
                guard let c = cell, row != nil else { break }
                cell = nil
                switch c.type {
                case "s":
                    guard let i = Int(c.text), strings.indices.contains(i) else {
                        problem = "row \(row!.number): shared string \(c.text) does not exist"; parser.abortParsing(); return
                    }
                    row!.cells[c.column] = strings[i]
                case "n":
                    row!.cells[c.column] = c.text
                    if !c.text.isEmpty { row!.numeric.insert(c.column) }
                default: row!.cells[c.column] = c.text    // str, inlineStr, b (1/0), e (#N/A …)
                }
            case "row":
                guard let r = row else { break }
                row = nil
                let width = (r.cells.keys.max() ?? -1) + 1
                rows.append((r.number, (0..<width).map { r.cells[$0] ?? "" }, r.numeric))
            default: break
            }
        }
    }
}
