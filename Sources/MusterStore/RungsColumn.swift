import Foundation
import MusterCore
import MusterWire

/// `ladders.rungs` (migration v14): an owner's waiting rungs as a JSON array of arrays, by due,
///
///     [["ack",0,1,"remind","agency",1796689800000,1796689860000], ["milestone.1",0,1,…], …]
///      stem   rung level notice  to     due (ms)      deadline (ms)
///
/// A rung's id is `owner/stem/rung` and its clock the stem up to any `.stage`, as every id the
/// core makes is (and as the log's reader rebuilds them); an id of another form is kept whole
/// as an eighth member. Arrays, not objects: the names were half of a rung's bytes (~153 B a
/// rung before, ~72 now; a dispatch has ~5, its row rewritten at four acts of a lifecycle).
/// The row's case and department are its own columns. The view `timers` reads this form back
/// into a row per rung.
enum RungsColumn {
    /// The column's bytes, written into memory sized once: this runs at most acts of a
    /// lifecycle, and appending value by value (each append checks the array's capacity and
    /// uniqueness) cost more than the rungs' bytes.
    static func encode(_ rungs: [LadderTimer], owner: String) -> [UInt8] {
        var bound = 2  // brackets, commas, numbers and a clock's name take at most 113 a rung; an escape 6 a byte
        for t in rungs { bound += 128 + 6 * (t.id.utf8.count + t.notice.utf8.count + t.to.reduce(0) { $0 + $1.utf8.count + 1 }) }
        return [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
            var out = Cursor(buffer: buffer)
            out.byte(UInt8(ascii: "["))
            for (i, t) in rungs.enumerated() {
                if i > 0 { out.byte(UInt8(ascii: ",")) }
                out.byte(UInt8(ascii: "["))
                let whole = t.id.withUTF8Bytes { id in
                    owner.withUTF8Bytes { owner in
                        t.clock.rawValue.withUTF8Bytes { clock in
                            guard let stem = stem(id: id, owner: owner, clock: clock, rung: t.rung) else { out.string(clock); return true }
                            out.string(UnsafeBufferPointer(rebasing: id[stem]))
                            return false
                        }
                    }
                }
                out.byte(UInt8(ascii: ","))
                out.int(Int64(t.rung)); out.byte(UInt8(ascii: ","))
                out.int(Int64(t.level)); out.byte(UInt8(ascii: ","))
                t.notice.withUTF8Bytes { out.string($0) }; out.byte(UInt8(ascii: ","))
                out.byte(UInt8(ascii: "\""))
                for (k, name) in t.to.enumerated() {
                    if k > 0 { out.byte(UInt8(ascii: ",")) }
                    name.withUTF8Bytes { out.escaped($0) }
                }
                out.byte(UInt8(ascii: "\"")); out.byte(UInt8(ascii: ","))
                out.int(t.due.ms); out.byte(UInt8(ascii: ","))
                out.int(t.deadline.ms)
                if whole { out.byte(UInt8(ascii: ",")); t.id.withUTF8Bytes { out.string($0) } }
                out.byte(UInt8(ascii: "]"))
            }
            out.byte(UInt8(ascii: "]"))
            // The bound above is what keeps the writes inside; this only stops a wrong one going on.
            precondition(out.n <= bound)
            count = out.n
        }
    }

    /// The rungs of `owner`'s row; nil when the column is not of the form above.
    static func decode(_ bytes: [UInt8], owner: String, caseID: String, agency: String?) -> [LadderTimer]? {
        guard let tree = try? JSONTree.parse(bytes), case .array(let items) = tree.value else { return nil }
        var rungs: [LadderTimer] = []
        rungs.reserveCapacity(items.count)
        for item in items {
            guard case .array(let m) = item.value, m.count == 7 || m.count == 8,
                  case .string(let stem) = m[0].value, let clock = clock(ofStem: stem),
                  case .number(let rung) = m[1].value, let rung = Int(rung),
                  case .number(let level) = m[2].value, let level = Int(level),
                  case .string(let notice) = m[3].value, case .string(let to) = m[4].value,
                  case .number(let due) = m[5].value, let due = Int64(due),
                  case .number(let deadline) = m[6].value, let deadline = Int64(deadline)
            else { return nil }
            let id: String
            if m.count == 8 {
                guard case .string(let whole) = m[7].value else { return nil }
                id = whole
            } else {
                id = owner + "/" + stem + "/" + String(rung)
            }
            rungs.append(LadderTimer(id: id, caseID: caseID, dispatchID: owner == caseID ? nil : owner, agency: agency, clock: clock,
                                     rung: rung, level: level, notice: Store.codes(notice), to: Store.list(to),
                                     due: Date(ms: due), deadline: Date(ms: deadline)))
        }
        return rungs
    }

    /// Where in `id` its stem is (`ack`, `milestone.1`) when the id is `owner/stem/rung` and the
    /// stem is `clock`'s name, alone or with a `.stage`; nil for an id of any other form.
    static func stem(id: UnsafeBufferPointer<UInt8>, owner: UnsafeBufferPointer<UInt8>, clock: UnsafeBufferPointer<UInt8>,
                     rung: Int) -> Range<Int>? {
        let start = owner.count + 1
        var k = start + clock.count
        guard id.count > k + 1, id[owner.count] == UInt8(ascii: "/"),
              id[..<owner.count].elementsEqual(owner), id[start..<k].elementsEqual(clock) else { return nil }
        if id[k] == UInt8(ascii: ".") {
            k += 1
            let digits = k
            while k < id.count, isDigit(id[k]) { k += 1 }
            guard k > digits else { return nil }
        }
        guard k < id.count, id[k] == UInt8(ascii: "/") else { return nil }
        // The rung as the core writes it: decimal, no sign, no leading zero.
        let tail = id[(k + 1)...]
        guard !tail.isEmpty, tail.count <= 18, tail.allSatisfy(isDigit), tail.first != UInt8(ascii: "0") || tail.count == 1,
              tail.reduce(0, { $0 * 10 + Int($1 - 0x30) }) == rung else { return nil }
        return start..<k
    }

    private static func isDigit(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) }

    /// `ack` → ack, `milestone.1` → milestone; nil for anything else.
    static func clock(ofStem stem: some StringProtocol) -> ClockKind? {
        guard let dot = stem.utf8.firstIndex(of: UInt8(ascii: ".")) else { return ClockKind(rawValue: String(stem)) }
        let stage = stem.utf8[stem.utf8.index(after: dot)...]
        guard !stage.isEmpty, stage.allSatisfy(isDigit) else { return nil }
        return ClockKind(rawValue: String(stem[..<dot]))
    }
}

/// Writes bytes into memory the caller sized for them, with JSONWriter's escapes and digits.
private struct Cursor {
    let buffer: UnsafeMutableBufferPointer<UInt8>
    var n = 0

    mutating func byte(_ b: UInt8) { buffer[n] = b; n += 1 }

    /// A JSON string: quoted and escaped.
    mutating func string(_ s: UnsafeBufferPointer<UInt8>) { byte(UInt8(ascii: "\"")); escaped(s); byte(UInt8(ascii: "\"")) }

    mutating func escaped(_ s: UnsafeBufferPointer<UInt8>) {
        for b in s {
            if JSONWriter.needsEscape(b) { n = JSONWriter.writeEscape(b, into: buffer, at: n) } else { byte(b) }
        }
    }

    mutating func int(_ v: Int64) { n = JSONWriter.writeInt(v, into: buffer, at: n) }
}
