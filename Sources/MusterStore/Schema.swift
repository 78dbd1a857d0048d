import GRDB

/// Migrations. Never edit one that has shipped: add the next.
enum Schema {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1: cases, dispatches, event log, outbox, requests") { db in
            try db.execute(sql: """
                CREATE TABLE cases (
                    case_id TEXT PRIMARY KEY,
                    source TEXT NOT NULL,
                    external_ref TEXT NOT NULL,
                    category TEXT NOT NULL,
                    grid TEXT NOT NULL,
                    priority TEXT NOT NULL,
                    title TEXT NOT NULL,
                    address TEXT,
                    state TEXT NOT NULL,
                    round INTEGER NOT NULL,
                    lead TEXT,
                    assists TEXT NOT NULL,
                    assigned INTEGER NOT NULL,
                    returned_by TEXT NOT NULL,
                    merged_into TEXT,
                    merged_reports INTEGER NOT NULL,
                    accepted_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    resolve_by INTEGER,
                    satisfaction TEXT,
                    submitted BLOB NOT NULL,
                    UNIQUE (source, external_ref)
                );
                CREATE INDEX cases_by_state ON cases (state, case_id);
                CREATE TABLE dispatches (
                    dispatch_id TEXT PRIMARY KEY,
                    case_id TEXT NOT NULL REFERENCES cases (case_id),
                    agency TEXT NOT NULL,
                    role TEXT NOT NULL,
                    round INTEGER NOT NULL,
                    state TEXT NOT NULL,
                    sent_at INTEGER NOT NULL,
                    ack_by INTEGER NOT NULL,
                    resolve_by INTEGER NOT NULL,
                    return_by INTEGER NOT NULL,
                    acked_at INTEGER,
                    finished_at INTEGER,
                    handler TEXT
                );
                CREATE INDEX dispatches_by_case ON dispatches (case_id);
                CREATE INDEX dispatches_by_agency ON dispatches (agency, state);
                -- The event log: append-only; each row's hash covers the one before (EventChain).
                CREATE TABLE events (
                    seq INTEGER PRIMARY KEY,
                    case_id TEXT NOT NULL,
                    type TEXT NOT NULL,
                    at INTEGER NOT NULL,
                    actor TEXT NOT NULL,
                    data BLOB NOT NULL,
                    hash BLOB NOT NULL
                );
                CREATE INDEX events_by_case ON events (case_id, seq);
                -- Pushes stored before they are sent; RECEIVED deletes them.
                CREATE TABLE outbox (
                    delivery INTEGER PRIMARY KEY,
                    target TEXT NOT NULL,
                    command TEXT NOT NULL,
                    body BLOB NOT NULL,
                    dispatch_id TEXT,
                    created_at INTEGER NOT NULL
                );
                CREATE INDEX outbox_by_dispatch ON outbox (dispatch_id);
                -- Replies to request ids, so that a repeated id is answered, never reapplied.
                CREATE TABLE requests (
                    adapter TEXT NOT NULL,
                    request_id TEXT NOT NULL,
                    command TEXT NOT NULL,
                    reply BLOB NOT NULL,
                    at INTEGER NOT NULL,
                    PRIMARY KEY (adapter, request_id)
                ) WITHOUT ROWID;
                CREATE INDEX requests_by_age ON requests (at);
                CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
                """)
        }
        m.registerMigration("v2: ladder timers") { db in
            try db.execute(sql: """
                -- Rungs of escalation ladders not yet fired: a projection of the clocks, written with
                -- the facts that start and stop them; the broker's timer heap is rebuilt from it.
                CREATE TABLE timers (
                    id TEXT PRIMARY KEY,
                    owner TEXT NOT NULL,
                    case_id TEXT NOT NULL,
                    dispatch_id TEXT,
                    agency TEXT,
                    clock TEXT NOT NULL,
                    rung INTEGER NOT NULL,
                    level INTEGER NOT NULL,
                    notice TEXT NOT NULL,
                    recipients TEXT NOT NULL,
                    due INTEGER NOT NULL,
                    deadline INTEGER NOT NULL
                );
                CREATE INDEX timers_by_owner ON timers (owner);
                CREATE INDEX timers_by_due ON timers (due);
                """)
        }
        m.registerMigration("v3: extensions and management modes") { db in
            try db.execute(sql: """
                ALTER TABLE dispatches ADD COLUMN extensions INTEGER;
                ALTER TABLE dispatches ADD COLUMN first_resolve_by INTEGER;
                ALTER TABLE cases ADD COLUMN escalation INTEGER;
                ALTER TABLE cases ADD COLUMN backlog TEXT;
                -- 平时 / 节假日 / 重大活动 / 应急 by grid prefix; no row: normal.
                CREATE TABLE modes (scope TEXT PRIMARY KEY, mode TEXT NOT NULL, set_at INTEGER NOT NULL);
                """)
        }
        m.registerMigration("v4: outcomes of verifications and follow-up calls, for stats") { db in
            try db.execute(sql: """
                -- 核实 and 回访 verdicts, one row per event (its seq): stats count them by agency and
                -- period from these columns instead of searching the log's JSON (Store+Outcomes).
                CREATE TABLE outcomes (
                    seq INTEGER PRIMARY KEY,
                    case_id TEXT NOT NULL,
                    at INTEGER NOT NULL,
                    kind TEXT NOT NULL,         -- verify | evaluate
                    verdict TEXT NOT NULL       -- passed | failed; satisfied | basically_satisfied | dissatisfied
                );
                CREATE INDEX outcomes_by_at ON outcomes (at);
                """)
            // Filled from the log as it was when this shipped: only v1 rows can exist then (the
            // v2 writer came with this migration). Plain SQL over that form, so that later changes
            // to the model or the codec never change what this migration does; a row that is not
            // JSON, or not of that form, is left out (verify-log reports it).
            try db.execute(sql: """
                INSERT INTO outcomes (seq, case_id, at, kind, verdict)
                SELECT seq, case_id, at, 'verify', CASE passed WHEN 1 THEN 'passed' ELSE 'failed' END FROM (
                    SELECT seq, case_id, at,
                           CASE WHEN json_valid(CAST(data AS TEXT)) THEN json_extract(CAST(data AS TEXT), '$.verified.passed') END AS passed
                    FROM events WHERE type IN ('case.verified', 'case.rework'))
                WHERE passed IS NOT NULL;
                INSERT INTO outcomes (seq, case_id, at, kind, verdict)
                SELECT seq, case_id, at, 'evaluate', verdict FROM (
                    SELECT seq, case_id, at,
                           CASE WHEN json_valid(CAST(data AS TEXT)) THEN json_extract(CAST(data AS TEXT), '$.evaluated._0') END AS verdict
                    FROM events WHERE type = 'case.evaluated')
                WHERE verdict IN ('satisfied', 'basically_satisfied', 'dissatisfied');
                """)
        }
        m.registerMigration("v5: dispatches.return_by as deadlines_moved left it") { db in
            // Until f066283 a commit updated a dispatch's ack_by and resolve_by but not its
            // return_by, so a deadlines_moved fact moved it in the log only: replay disagreed
            // with the projection. The log is right; the last such fact of each dispatch wins.
            // Plain SQL over the v1 form, as in v4; a row not of that form is left out.
            try db.execute(sql: """
                WITH moved AS (
                    SELECT seq,
                           CASE WHEN json_valid(CAST(data AS TEXT)) THEN json_extract(CAST(data AS TEXT), '$.deadlinesMoved.dispatchID') END AS dispatch_id,
                           CASE WHEN json_valid(CAST(data AS TEXT)) THEN json_extract(CAST(data AS TEXT), '$.deadlinesMoved.returnBy') END AS return_by
                    FROM events
                    WHERE type = 'dispatch.deadlines_moved'),
                latest AS (
                    SELECT dispatch_id, return_by FROM moved m
                    WHERE return_by IS NOT NULL AND seq = (SELECT max(seq) FROM moved WHERE dispatch_id = m.dispatch_id AND return_by IS NOT NULL))
                UPDATE dispatches SET return_by = (SELECT return_by FROM latest WHERE latest.dispatch_id = dispatches.dispatch_id)
                WHERE dispatch_id IN (SELECT dispatch_id FROM latest);
                """)
        }
        m.registerMigration("v6: cases.merge_key and outbox.grid, to start without reading the cases") { db in
            // Ledger.mergeKey as SQL: category, grid and the address without surrounding ASCII and
            // ideographic spaces; none without an address or a category.
            try db.execute(sql: """
                ALTER TABLE cases ADD COLUMN merge_key TEXT;
                UPDATE cases SET merge_key = category || char(31) || grid || char(31) || trim(address, ' ' || char(9) || char(12288))
                WHERE address IS NOT NULL AND trim(address, ' ' || char(9) || char(12288)) <> '' AND category <> 'unclassified';
                CREATE INDEX cases_by_merge_key ON cases (merge_key, case_id) WHERE merge_key IS NOT NULL;
                -- The case's grid beside each push, so the broker starts without reading cases.
                ALTER TABLE outbox ADD COLUMN grid TEXT;
                UPDATE outbox SET grid = (SELECT c.grid FROM dispatches d JOIN cases c ON c.case_id = d.case_id
                                          WHERE d.dispatch_id = outbox.dispatch_id)
                WHERE dispatch_id IS NOT NULL;
                """)
        }
        m.registerMigration("v7: whistles and the departments they summon") { db in
            try db.execute(sql: """
                -- 吹哨报到: projections of the whistle.* facts (events.case_id is the whistle id).
                CREATE TABLE whistles (
                    whistle_id TEXT PRIMARY KEY,
                    grid TEXT NOT NULL,
                    kind TEXT NOT NULL,             -- emergency | enforcement | resident_concern
                    reason TEXT NOT NULL,
                    case_id TEXT,                   -- the case it was blown on
                    blown_by TEXT NOT NULL,         -- adapter id; broker for 应急 mode
                    street TEXT,                    -- the grid/supervisor peer told of 督办; null: the centre blew it
                    blown_at INTEGER NOT NULL,
                    report_within_ms INTEGER NOT NULL,
                    state TEXT NOT NULL,            -- open | closed
                    closed_at INTEGER,
                    override TEXT                   -- the centre's reason, if stood down with its case unfinished
                );
                CREATE INDEX whistles_open ON whistles (state, whistle_id);
                CREATE INDEX whistles_by_case ON whistles (case_id) WHERE case_id IS NOT NULL;
                CREATE INDEX whistles_by_blown_at ON whistles (blown_at);
                CREATE TABLE summons (
                    summon_id TEXT PRIMARY KEY,     -- whistle_id/agency
                    whistle_id TEXT NOT NULL REFERENCES whistles (whistle_id),
                    agency TEXT NOT NULL,
                    state TEXT NOT NULL,            -- summoned | en_route | on_site | stood_down | released
                    summoned_at INTEGER NOT NULL,
                    report_by INTEGER NOT NULL,
                    en_route_at INTEGER,
                    on_site_at INTEGER,
                    ended_at INTEGER,
                    escalation INTEGER,
                    note TEXT,
                    lat REAL,
                    lon REAL
                );
                CREATE INDEX summons_by_whistle ON summons (whistle_id);
                CREATE INDEX summons_by_agency ON summons (agency, summoned_at);
                """)
        }
        m.registerMigration("v8: known incidents") { db in
            try db.execute(sql: """
                -- 已知事件: projections of the incident.* facts (events.case_id is the incident id).
                CREATE TABLE incidents (
                    incident_id TEXT PRIMARY KEY,
                    agency TEXT,                    -- the declaring department; null: the centre
                    ref TEXT NOT NULL,              -- the department's own id for it
                    state TEXT NOT NULL,            -- active | ended
                    expected_end INTEGER NOT NULL,
                    reports INTEGER NOT NULL,       -- reports merged into it
                    record TEXT NOT NULL            -- the whole record (JSON), read back at start
                );
                CREATE INDEX incidents_active ON incidents (state, incident_id);
                """)
        }
        m.registerMigration("v9: staged limits of dispatches") { db in
            // The stages (Milestone) as the log writes them: a JSON array, null for most dispatches.
            try db.execute(sql: "ALTER TABLE dispatches ADD COLUMN milestones TEXT")
        }
        m.registerMigration("v10: petitions (信访) beside their cases") { db in
            // The petition's record as the log writes it (null for every other source), and its
            // repeat key (petitioner and facts, a digest) to find repeats in any state.
            try db.execute(sql: """
                ALTER TABLE cases ADD COLUMN petition TEXT;
                ALTER TABLE cases ADD COLUMN repeat_key TEXT;
                CREATE INDEX cases_by_repeat_key ON cases (repeat_key, case_id) WHERE repeat_key IS NOT NULL;
                """)
        }
        m.registerMigration("v11: one row of waiting rungs per owner") { db in
            // A dispatch's six rungs were six rows in three B-trees: the largest part of what a
            // SUBMIT wrote. Now one row per owner (dispatch, case, summons, incident) holding its
            // waiting rungs as a JSON array, with the span of their dues for paging in
            // (Store+Ladders). `timers` stays, as a view with the old columns, for reading.
            try db.execute(sql: """
                CREATE TABLE ladders (
                    owner TEXT PRIMARY KEY,
                    case_id TEXT NOT NULL,
                    agency TEXT,
                    next_due INTEGER NOT NULL,      -- the earliest rung's due
                    last_due INTEGER NOT NULL,      -- the latest rung's due
                    rungs TEXT NOT NULL             -- [{"id","clock","rung","level","notice","to","due","deadline"}], by due
                ) WITHOUT ROWID;
                CREATE INDEX ladders_by_due ON ladders (next_due);
                INSERT INTO ladders (owner, case_id, agency, next_due, last_due, rungs)
                SELECT owner, min(case_id), min(agency), min(due), max(due),
                       json_group_array(json_object('id', id, 'clock', clock, 'rung', rung, 'level', level, 'notice', notice,
                                                    'to', recipients, 'due', due, 'deadline', deadline))
                FROM (SELECT * FROM timers ORDER BY owner, due, id)
                GROUP BY owner;
                DROP TABLE timers;
                CREATE VIEW timers AS
                SELECT json_extract(r.value, '$.id') AS id, l.owner AS owner, l.case_id AS case_id,
                       CASE WHEN l.owner = l.case_id THEN NULL ELSE l.owner END AS dispatch_id, l.agency AS agency,
                       json_extract(r.value, '$.clock') AS clock, json_extract(r.value, '$.rung') AS rung,
                       json_extract(r.value, '$.level') AS level, json_extract(r.value, '$.notice') AS notice,
                       json_extract(r.value, '$.to') AS recipients, json_extract(r.value, '$.due') AS due,
                       json_extract(r.value, '$.deadline') AS deadline
                FROM ladders l, json_each(l.rungs) r;
                """)
        }
        m.registerMigration("v12: meta and dispatches without a rowid") { db in
            // A text-keyed rowid table is two B-trees, the rows and the key's index: every commit's
            // upsert of the chain head and last delivery, and every new dispatch, wrote a page of
            // each (of the ~21 a lone SUBMIT's commit writes). A dispatch row is small (~140 B),
            // as rows kept in their key's B-tree should be; a case row (~650 B) is not, and stays.
            try db.execute(sql: """
                CREATE TABLE meta_v12 (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
                INSERT INTO meta_v12 (key, value) SELECT key, value FROM meta;
                DROP TABLE meta;
                ALTER TABLE meta_v12 RENAME TO meta;
                CREATE TABLE dispatches_v12 (
                    dispatch_id TEXT PRIMARY KEY,
                    case_id TEXT NOT NULL REFERENCES cases (case_id),
                    agency TEXT NOT NULL,
                    role TEXT NOT NULL,
                    round INTEGER NOT NULL,
                    state TEXT NOT NULL,
                    sent_at INTEGER NOT NULL,
                    ack_by INTEGER NOT NULL,
                    resolve_by INTEGER NOT NULL,
                    return_by INTEGER NOT NULL,
                    acked_at INTEGER,
                    finished_at INTEGER,
                    handler TEXT,
                    extensions INTEGER,
                    first_resolve_by INTEGER,
                    milestones TEXT
                ) WITHOUT ROWID;
                INSERT INTO dispatches_v12 SELECT dispatch_id, case_id, agency, role, round, state, sent_at, ack_by, resolve_by,
                    return_by, acked_at, finished_at, handler, extensions, first_resolve_by, milestones FROM dispatches;
                DROP TABLE dispatches;
                ALTER TABLE dispatches_v12 RENAME TO dispatches;
                CREATE INDEX dispatches_by_case ON dispatches (case_id);
                CREATE INDEX dispatches_by_agency ON dispatches (agency, state);
                """)
        }
        m.registerMigration("v13: no index the write path feeds and no read needs") { db in
            // Each was a B-tree every SUBMIT (and most later requests) wrote a page of, for a read
            // that is rare or absent: no query reads dispatches by agency (the stats scan by
            // time); a withdrawal deletes its pushes by their delivery numbers, which the broker
            // holds; and request ids are pruned by a sweep along their key (Store+Commit).
            try db.execute(sql: """
                DROP INDEX dispatches_by_agency;
                DROP INDEX outbox_by_dispatch;
                DROP INDEX requests_by_age;
                """)
        }
        m.registerMigration("v14: waiting rungs as arrays") { db in
            // A rung an array, `[stem, rung, level, notice, to, due, deadline]`, its id
            // `owner/stem/rung` (RungsColumn): the member names were half the bytes of
            // the row rewritten at most acts. An id of another form is kept as an eighth member.
            try db.execute(sql: """
                UPDATE ladders SET rungs = (
                    SELECT json_group_array(
                        CASE WHEN id = ladders.owner || '/' || stem || '/' || rung
                                  AND (stem = clock OR (substr(stem, 1, length(clock) + 1) = clock || '.'
                                       AND length(stem) > length(clock) + 1 AND substr(stem, length(clock) + 2) NOT GLOB '*[^0-9]*'))
                             THEN json_array(stem, rung, level, notice, recipients, due, deadline)
                             ELSE json_array(clock, rung, level, notice, recipients, due, deadline, id) END)
                    FROM (SELECT id, clock, rung, level, notice, recipients, due, deadline,
                                 substr(id, length(ladders.owner) + 2, length(id) - length(ladders.owner) - length(rung) - 2) AS stem
                          FROM (SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.clock') AS clock,
                                       json_extract(value, '$.rung') AS rung, json_extract(value, '$.level') AS level,
                                       json_extract(value, '$.notice') AS notice, json_extract(value, '$.to') AS recipients,
                                       json_extract(value, '$.due') AS due, json_extract(value, '$.deadline') AS deadline
                                FROM json_each(ladders.rungs) ORDER BY key)));
                DROP VIEW timers;
                CREATE VIEW timers AS
                SELECT coalesce(r.value ->> 7, l.owner || '/' || (r.value ->> 0) || '/' || (r.value ->> 1)) AS id,
                       l.owner AS owner, l.case_id AS case_id,
                       CASE WHEN l.owner = l.case_id THEN NULL ELSE l.owner END AS dispatch_id, l.agency AS agency,
                       CASE instr(r.value ->> 0, '.') WHEN 0 THEN r.value ->> 0 ELSE substr(r.value ->> 0, 1, instr(r.value ->> 0, '.') - 1) END AS clock,
                       r.value ->> 1 AS rung, r.value ->> 2 AS level, r.value ->> 3 AS notice, r.value ->> 4 AS recipients,
                       r.value ->> 5 AS due, r.value ->> 6 AS deadline
                FROM ladders l, json_each(l.rungs) r;
                """)
        }
        m.registerMigration("v15: the submitted case beside the fact that accepted it") { db in
            // The SUBMIT's bytes (~350 B in the bench, kilobytes for a long complaint) were most of
            // a case row, and a lifecycle rewrites that row at four acts: each rewrite copied them,
            // and rows that large put the cases in flight on many pages, each a 4 KB page in the
            // write-ahead log for a few changed bytes. They are written once, on the log's row of
            // the case's `case.accepted` fact (Store.submittedSQL), outside the hash as they were.
            // A case whose acceptance is missing from the log (rows deleted: verify-log names the
            // gap) keeps its bytes apart, so that the upgrade neither stops nor loses them.
            try db.execute(sql: """
                ALTER TABLE events ADD COLUMN submitted BLOB;
                UPDATE events SET submitted = (SELECT c.submitted FROM cases c WHERE c.case_id = events.case_id)
                WHERE seq IN (SELECT min(seq) FROM events WHERE type = 'case.accepted' GROUP BY case_id);
                CREATE TABLE submitted_unlogged (case_id TEXT PRIMARY KEY, submitted BLOB NOT NULL) WITHOUT ROWID;
                INSERT INTO submitted_unlogged (case_id, submitted)
                SELECT case_id, submitted FROM cases c
                WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.case_id = c.case_id AND e.type = 'case.accepted');
                ALTER TABLE cases DROP COLUMN submitted;
                """)
        }
        return m
    }
}
