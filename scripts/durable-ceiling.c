// The most SUBMITs a second any broker of this design could make durable on this machine: only
// SQLite's part, the least issue 16's target 4 allows a SUBMIT to write (4 rows, ~1.3 KB: the
// case with its two keys, one fact in the log with its case index, the dispatch, the ladder
// row), in batches of 1,000 SUBMITs a transaction, WAL with synchronous=FULL, time-ordered keys.
// No request is read, decided, hashed into the chain or answered, and no client runs: every
// figure a broker reaches is below this one. Run one process per core to see both cores' ceiling
// (one database file each, as a broker sharded by case id would have).
//
//   durable-ceiling <db> <submits> [batch=1000]
//
// Prints the rate and the CPU a SUBMIT. Built and run by scripts/durable-ceiling.sh.
#include <sqlite3.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
#define CK(db, x) do { int rc_ = (x); if (rc_ != SQLITE_OK && rc_ != SQLITE_DONE && rc_ != SQLITE_ROW) { \
    fprintf(stderr, "%s: %s\n", #x, sqlite3_errmsg(db)); exit(1); } } while (0)

/// Whether today's rows leave out `part` (OMIT).
static int omitted(const char *part) { const char *o = getenv("OMIT"); return o && *o && strstr(o, part); }

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql) {
    sqlite3_stmt *s; CK(db, sqlite3_prepare_v2(db, sql, -1, &s, 0)); return s;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: durable-ceiling <db> <submits> [batch] [target4|today]\n"); return 2; }
    const char *path = argv[1]; long total = atol(argv[2]); int batch = argc > 3 ? atoi(argv[3]) : 1000;
    int today = argc > 4 && strcmp(argv[4], "today") == 0;
    char p[1024];
    unlink(path); snprintf(p, sizeof p, "%s-wal", path); unlink(p); snprintf(p, sizeof p, "%s-shm", path); unlink(p);
    sqlite3 *db; CK(db, sqlite3_open(path, &db));
    // Muster's settings: 8 KB pages, WAL, FULL; SQLite's own checkpoints (the broker's are on a
    // thread of their own, which would only add a core's work here).
    CK(db, sqlite3_exec(db, "PRAGMA page_size=8192; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
        "CREATE TABLE cases (case_id TEXT PRIMARY KEY, source TEXT NOT NULL, external_ref TEXT NOT NULL,"
        "  category TEXT NOT NULL, grid TEXT NOT NULL, title TEXT NOT NULL, address TEXT, state TEXT NOT NULL,"
        "  accepted_at INTEGER NOT NULL, UNIQUE (source, external_ref)) WITHOUT ROWID;"
        "CREATE TABLE events (seq INTEGER PRIMARY KEY, case_id TEXT NOT NULL, type TEXT NOT NULL, at INTEGER NOT NULL,"
        "  data BLOB NOT NULL, hash BLOB NOT NULL);"
        "CREATE INDEX events_by_case ON events (case_id, seq);"
        "CREATE TABLE dispatches (dispatch_id TEXT PRIMARY KEY, case_id TEXT NOT NULL, agency TEXT NOT NULL,"
        "  state TEXT NOT NULL, sent_at INTEGER NOT NULL, ack_by INTEGER, resolve_by INTEGER) WITHOUT ROWID;"
        "CREATE TABLE ladders (owner TEXT PRIMARY KEY, case_id TEXT NOT NULL, next_due INTEGER NOT NULL,"
        "  rungs TEXT NOT NULL) WITHOUT ROWID;", 0, 0, 0));
    if (today && !omitted("indexes")) CK(db, sqlite3_exec(db,
        "CREATE INDEX cases_by_state ON cases (state, case_id);"
        "CREATE INDEX cases_by_merge_key ON cases (grid, address, case_id);"
        "CREATE INDEX dispatches_by_case ON dispatches (case_id);"
        "CREATE INDEX ladders_by_due ON ladders (next_due);", 0, 0, 0));
    if (today) CK(db, sqlite3_exec(db,
        "CREATE TABLE requests (adapter TEXT NOT NULL, request_id TEXT NOT NULL, command TEXT NOT NULL, reply BLOB NOT NULL,"
        "  at INTEGER NOT NULL, PRIMARY KEY (adapter, request_id)) WITHOUT ROWID;"
        "CREATE TABLE outbox (delivery INTEGER PRIMARY KEY, target TEXT NOT NULL, body BLOB NOT NULL, dispatch_id TEXT);"
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;"
        "INSERT INTO meta VALUES ('chain_head', x'00');", 0, 0, 0));
    int facts = today && !omitted("facts"), reply = today && !omitted("reply"), outbox = today && !omitted("outbox"),
        meta = today && !omitted("meta");
    sqlite3_stmt *rq = today ? prepare(db, "INSERT INTO requests VALUES ('cintake-12539-6b1495c1',?,'ACCEPTED',?,?)") : 0;
    sqlite3_stmt *ob = today ? prepare(db, "INSERT INTO outbox VALUES (?,'agency:reli',?,?)") : 0;
    sqlite3_stmt *mt = today ? prepare(db, "UPDATE meta SET value = ? WHERE key = 'chain_head'") : 0;
    sqlite3_stmt *cs = prepare(db, "INSERT INTO cases VALUES (?,?,?,?,?,?,?,?,?)");
    sqlite3_stmt *ev = prepare(db, "INSERT INTO events VALUES (?,?,?,?,?,?)");
    sqlite3_stmt *ds = prepare(db, "INSERT INTO dispatches VALUES (?,?,?,?,?,?,?)");
    sqlite3_stmt *ld = prepare(db, "INSERT INTO ladders VALUES (?,?,?,?)");
    // Sizes of today's rows, cut to target 4's 1.5 KB: the fact 600 B (today three, 1,663 B), the
    // ladder's rungs 300 B (today 600), the case row as it is (~250 B).
    // Today: the three facts 448, 324 and 891 B, the submitted body 195, the rungs ~600, the
    // stored reply ~100, the outbox's DISPATCH ~450.
    char big[1024], fact[601], rungs[301], hash[32], caseID[24], dispatchID[24], ref[48];
    memset(fact, 'f', 600); fact[600] = 0; memset(rungs, 'r', 300); rungs[300] = 0; memset(hash, 7, 32); memset(big, 'b', sizeof big);
    const long long t0ms = 1796511169452LL;
    long n = 0; double start = now();
    while (n < total) {
        CK(db, sqlite3_exec(db, "BEGIN IMMEDIATE", 0, 0, 0));
        for (int i = 0; i < batch && n < total; i++, n++) {
            snprintf(caseID, sizeof caseID, "C%010ld", n + 1);
            snprintf(dispatchID, sizeof dispatchID, "D%010ld", n + 1);
            snprintf(ref, sizeof ref, "-12539-6b1495c1-0-%014ld", 30470570571409L + n);
            long long at = t0ms + n;
            sqlite3_bind_text(cs, 1, caseID, -1, SQLITE_STATIC);
            sqlite3_bind_text(cs, 2, "hotline_12345", -1, SQLITE_STATIC);
            sqlite3_bind_text(cs, 3, ref, -1, SQLITE_STATIC);
            sqlite3_bind_text(cs, 4, "heating_not_warm", -1, SQLITE_STATIC);
            sqlite3_bind_text(cs, 5, "zz/erqi/jiefanglu", -1, SQLITE_STATIC);
            sqlite3_bind_text(cs, 6, "暖气不热", -1, SQLITE_STATIC);
            sqlite3_bind_text(cs, 7, "解放路0号", -1, SQLITE_STATIC);
            sqlite3_bind_text(cs, 8, "dispatched", -1, SQLITE_STATIC);
            sqlite3_bind_int64(cs, 9, at);
            CK(db, sqlite3_step(cs)); sqlite3_reset(cs);
            sqlite3_bind_int64(ev, 1, facts ? 3 * n + 1 : n + 1);
            sqlite3_bind_text(ev, 2, caseID, -1, SQLITE_STATIC);
            sqlite3_bind_text(ev, 3, "case.accepted", -1, SQLITE_STATIC);
            sqlite3_bind_int64(ev, 4, at);
            sqlite3_bind_blob(ev, 5, today ? big : fact, today ? 448 + 195 : 600, SQLITE_STATIC);
            sqlite3_bind_blob(ev, 6, hash, 32, SQLITE_STATIC);
            CK(db, sqlite3_step(ev)); sqlite3_reset(ev);
            sqlite3_bind_text(ds, 1, dispatchID, -1, SQLITE_STATIC);
            sqlite3_bind_text(ds, 2, caseID, -1, SQLITE_STATIC);
            sqlite3_bind_text(ds, 3, "reli", -1, SQLITE_STATIC);
            sqlite3_bind_text(ds, 4, "sent", -1, SQLITE_STATIC);
            sqlite3_bind_int64(ds, 5, at);
            sqlite3_bind_int64(ds, 6, at + 1800000);
            sqlite3_bind_int64(ds, 7, at + 7200000);
            CK(db, sqlite3_step(ds)); sqlite3_reset(ds);
            sqlite3_bind_text(ld, 1, dispatchID, -1, SQLITE_STATIC);
            sqlite3_bind_text(ld, 2, caseID, -1, SQLITE_STATIC);
            sqlite3_bind_int64(ld, 3, at + 1350000);
            sqlite3_bind_text(ld, 4, today ? big : rungs, today ? 600 : 300, SQLITE_STATIC);
            CK(db, sqlite3_step(ld)); sqlite3_reset(ld);
            for (int k = 1; k < 3 && facts; k++) {  // the second and third facts
                sqlite3_bind_int64(ev, 1, 3 * n + 1 + k);
                sqlite3_bind_blob(ev, 5, big, k == 1 ? 324 : 891, SQLITE_STATIC);
                CK(db, sqlite3_step(ev)); sqlite3_reset(ev);
            }
            if (reply) {  // keyed by the request's id, as the harness's client numbers them
                char rid[24]; snprintf(rid, sizeof rid, "s%ld", n);
                sqlite3_bind_text(rq, 1, rid, -1, SQLITE_STATIC);
                sqlite3_bind_blob(rq, 2, big, 100, SQLITE_STATIC);
                sqlite3_bind_int64(rq, 3, at);
                CK(db, sqlite3_step(rq)); sqlite3_reset(rq);
            }
            if (outbox) {
                sqlite3_bind_int64(ob, 1, n + 1);
                sqlite3_bind_blob(ob, 2, big, 450, SQLITE_STATIC);
                sqlite3_bind_text(ob, 3, dispatchID, -1, SQLITE_STATIC);
                CK(db, sqlite3_step(ob)); sqlite3_reset(ob);
            }
        }
        if (meta) { sqlite3_bind_blob(mt, 1, hash, 32, SQLITE_STATIC); CK(db, sqlite3_step(mt)); sqlite3_reset(mt); }
        CK(db, sqlite3_exec(db, "COMMIT", 0, 0, 0));
    }
    double secs = now() - start;
    // CPU as well as the rate: the rate alone counts the fsyncs' waits, which a broker overlaps
    // with its other thread's work.
    struct rusage ru; getrusage(RUSAGE_SELF, &ru);
    double user = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6, sys = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    printf("rows=%s%s%s submits=%ld batch=%d secs=%.2f submits/s=%.0f cpu_us=%.1f (user %.1f, kernel %.1f)\n", today ? "today" : "target4", today && omitted("") ? " without " : "", today && omitted("") ? getenv("OMIT") : "",
           n, batch, secs, n / secs, (user + sys) * 1e6 / n, user * 1e6 / n, sys * 1e6 / n);
    if (today) { sqlite3_finalize(rq); sqlite3_finalize(ob); sqlite3_finalize(mt); }
    sqlite3_finalize(cs); sqlite3_finalize(ev); sqlite3_finalize(ds); sqlite3_finalize(ld);
    sqlite3_close(db);
    return 0;
}
