import CSV
import Foundation

/// An export as CSV (yaslab/CSV.swift). The bytes are UTF-8, with or without the BOM
/// Excel writes for "CSV UTF-8"; bytes that are not UTF-8 are read as GB18030 (a superset of GBK
/// and GB2312, what Chinese Excel's plain "CSV" writes); UTF-16 with a BOM (Excel's "Unicode
/// text") too. Tab-separated when the header line has more tabs than commas.
enum CSVExport {
    struct Failure: Error, Equatable { var message: String }

    /// GB18030 as Foundation names it (kCFStringEncodingGB_18030_2000 as an NSStringEncoding).
    static let gb18030 = String.Encoding(rawValue: 0x8000_0632)

    /// The text and the name of its encoding.
    static func decode(_ bytes: [UInt8]) throws(Failure) -> (text: String, encoding: String) {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            guard let s = String(validating: bytes.dropFirst(3), as: UTF8.self) else {
                throw Failure(message: "starts with a UTF-8 byte-order mark but is not UTF-8")
            }
            return (s, "UTF-8 (BOM)")
        }
        for (bom, encoding, name) in [([UInt8]([0xFF, 0xFE]), String.Encoding.utf16LittleEndian, "UTF-16LE"), ([0xFE, 0xFF], .utf16BigEndian, "UTF-16BE")]
        where bytes.starts(with: bom) {
            guard let s = String(data: Data(bytes.dropFirst(2)), encoding: encoding) else {
                throw Failure(message: "starts with a \(name) byte-order mark but is not \(name)")
            }
            return (s, name)
        }
        if let s = String(validating: bytes, as: UTF8.self) { return (s, "UTF-8") }
        if let s = String(data: Data(bytes), encoding: gb18030) { return (s, "GB18030") }
        throw Failure(message: "编码无法识别 — neither UTF-8 nor GB18030; save it from Excel as \"CSV UTF-8\"")
    }

    static func read(_ bytes: [UInt8]) throws(Failure) -> ExportTable {
        let (text, encoding) = try decode(bytes)
        let firstLine = text.prefix { $0 != "\n" && $0 != "\r\n" && $0 != "\r" }
        let tabbed = firstLine.filter { $0 == "\t" }.count > firstLine.filter { $0 == "," }.count
        let reader: CSVReader
        do { reader = try CSVReader(string: text, delimiter: tabbed ? "\t" : ",") } catch {
            throw Failure(message: "not CSV: \(error)")
        }
        var records: [(number: Int, cells: [String], numeric: Set<Int>)] = []
        while let cells = reader.next() { records.append((records.count + 1, cells, [])) }
        if let e = reader.error { throw Failure(message: "not CSV after row \(records.count): \(e)") }
        do { return try ExportTable.make(records, format: encoding + (tabbed ? ", tab-separated" : "")) } catch {
            throw Failure(message: error.message)
        }
    }
}
