import Foundation
import GRDB
import MusterAdapterKit

/// The petition office adapter's own book, a SQLite file beside it: the petitions it registered
/// (their SUBMIT's act and, once ACCEPTED, their case) and the documents served on petitioners,
/// with their text — the text names the petitioner, so it stays here and the bus keeps only the
/// document's number, date and digest. Written before anything is answered, like the act queue.
final class PetitionBook: Sendable {
    struct Petition: Sendable, Equatable {
        var petitionNo: String
        var actID: String
        var caseID: String?
        var mergedInto: String?
        /// The broker's refusal of the registration (`code: message`), until a corrected form is taken.
        var refused: String?
    }

    /// A document (告知书, 答复意见书 …) served on a petitioner: queued to the bus as a PETITION
    /// notify, served once the broker took it, refused with its reason otherwise.
    struct Document: Sendable, Equatable {
        enum State: String, Sendable { case queued, served, refused }
        var id: String
        var petitionNo: String
        var kind: String
        var number: String?
        var title: String?
        var issuer: String?
        var text: String
        var sha256: String
        var servedAt: String?
        var state: State
        var refusal: String?
    }

    private let db: DatabaseQueue
    let path: String

    init(path: String) throws {
        self.path = path
        db = try LocalDatabase.open(path)
        var m = DatabaseMigrator()
        m.registerMigration("v1: petitions and their documents") { db in
            try db.execute(sql: """
                CREATE TABLE petitions (
                    petition_no TEXT PRIMARY KEY,   -- 信访件编号
                    act_id TEXT NOT NULL,           -- its SUBMIT's request id (a corrected form after a refusal is a new one)
                    case_id TEXT,                   -- once ACCEPTED
                    merged_into TEXT,               -- the petition in process it repeats (Art. 19)
                    refused TEXT,                   -- the broker's refusal, code: message
                    taken_at INTEGER NOT NULL
                );
                CREATE TABLE documents (
                    id TEXT PRIMARY KEY,            -- its PETITION's request id
                    petition_no TEXT NOT NULL REFERENCES petitions (petition_no),
                    kind TEXT NOT NULL,             -- acceptance, extension, reply, review, recheck
                    number TEXT, title TEXT, issuer TEXT,
                    text TEXT NOT NULL,
                    sha256 TEXT NOT NULL,
                    served_at TEXT,
                    state TEXT NOT NULL,
                    refusal TEXT,
                    created_at INTEGER NOT NULL
                );
                CREATE INDEX documents_of_petition ON documents (petition_no, created_at);
                """)
        }
        try m.migrate(db)
    }

    private static func ms(_ d: Date) -> Int64 { Int64(d.timeIntervalSince1970 * 1000) }

    /// A registration taken. Until the broker accepted it, a resend replaces it (a corrected
    /// form); once accepted, it is that case and a resend changes nothing.
    func take(_ petitionNo: String, actID: String, at now: Date = Date()) throws {
        try db.write { db in
            try db.execute(sql: """
                INSERT INTO petitions (petition_no, act_id, taken_at) VALUES (?, ?, ?)
                ON CONFLICT (petition_no) DO UPDATE SET act_id = excluded.act_id, refused = NULL, taken_at = excluded.taken_at
                WHERE petitions.case_id IS NULL
                """, arguments: [petitionNo, actID, Self.ms(now)])
        }
    }

    func petition(_ petitionNo: String) throws -> Petition? {
        try db.read { db in try Row.fetchOne(db, sql: "SELECT * FROM petitions WHERE petition_no = ?", arguments: [petitionNo]).map(Self.petition) }
    }

    func petition(ofAct actID: String) throws -> Petition? {
        try db.read { db in try Row.fetchOne(db, sql: "SELECT * FROM petitions WHERE act_id = ?", arguments: [actID]).map(Self.petition) }
    }

    func accepted(_ petitionNo: String, caseID: String, mergedInto: String?) throws {
        try db.write { db in
            try db.execute(sql: "UPDATE petitions SET case_id = ?, merged_into = ?, refused = NULL WHERE petition_no = ?",
                           arguments: [caseID, mergedInto, petitionNo])
        }
    }

    func refused(actID: String, _ why: String) throws {
        try db.write { db in try db.execute(sql: "UPDATE petitions SET refused = ? WHERE act_id = ? AND case_id IS NULL", arguments: [why, actID]) }
    }

    /// A document kept before its PETITION is queued; the same document again is the same row.
    func keep(_ d: Document, at now: Date = Date()) throws {
        try db.write { db in
            try db.execute(sql: """
                INSERT INTO documents (id, petition_no, kind, number, title, issuer, text, sha256, served_at, state, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?) ON CONFLICT (id) DO NOTHING
                """, arguments: [d.id, d.petitionNo, d.kind, d.number, d.title, d.issuer, d.text, d.sha256, d.servedAt, Self.ms(now)])
        }
    }

    /// The broker's answer to a document's PETITION.
    func settle(document id: String, served: Bool, refusal: String?) throws {
        try db.write { db in
            try db.execute(sql: "UPDATE documents SET state = ?, refusal = ? WHERE id = ?",
                           arguments: [served ? Document.State.served.rawValue : Document.State.refused.rawValue, refusal, id])
        }
    }

    func document(_ id: String) throws -> Document? {
        try db.read { db in try Row.fetchOne(db, sql: "SELECT * FROM documents WHERE id = ?", arguments: [id]).map(Self.document) }
    }

    func documents(of petitionNo: String) throws -> [Document] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM documents WHERE petition_no = ? ORDER BY created_at, id", arguments: [petitionNo]).map(Self.document)
        }
    }

    private static func petition(_ r: Row) -> Petition {
        Petition(petitionNo: r["petition_no"], actID: r["act_id"], caseID: r["case_id"], mergedInto: r["merged_into"], refused: r["refused"])
    }

    private static func document(_ r: Row) -> Document {
        Document(id: r["id"], petitionNo: r["petition_no"], kind: r["kind"], number: r["number"], title: r["title"], issuer: r["issuer"],
                 text: r["text"], sha256: r["sha256"], servedAt: r["served_at"], state: Document.State(rawValue: r["state"]) ?? .queued,
                 refusal: r["refusal"])
    }
}
