// The most SUBMITs a second SQLite alone allows a broker of this design on this machine: the rows
// of N SUBMITs and nothing else, in batches (one transaction each), WAL with synchronous=FULL,
// 8 KB pages, the keys as the shared harness's client makes them. No request is read, decided,
// hashed into the chain or answered, and no client runs, so a broker's figure is below this one.
// Rows, by the last argument:
// - `today`: what a SUBMIT writes now (docs/PERFORMANCE.md, twenty-fourth round): 7 rows in the
//   14 B-trees of Sources/MusterStore/Schema.swift — three facts, the case (a rowid table keyed
//   by text, its unique source reference, state and merge key), the stored reply, the dispatch,
//   the ladder row, the outbox, and the chain's head and last delivery in `meta` each commit.
//   Left out, which makes it a ceiling still: the outbox row's delete and the dispatch's update
//   when the agency's RECEIVED comes.
// - `target4`: the four rows issue 16's target 4 asks for (~1.3 KB): the case with its two keys,
//   one fact with its case index, the dispatch, the ladder row.
// - `onerow`: target 4's rows, but the one `events` row holds today's three facts (1,663 B), the
//   submitted case and the chain's three hashes, as a row covering a range of seqs would
//   (PERFORMANCE.md, twenty-fifth round). Its range's last seq is not written.
// OMIT (today's rows only), a comma-separated list of parts left out, tells which costs what:
// `indexes` (the case's state and merge key, the dispatch's case, the ladder's due), `facts`
// (the second and third), `reply`, `outbox`, `meta`.
//
//   [OMIT=facts,reply] durable-ceiling <db> <submits> [batch=256] [today|target4|onerow]
//
// Prints the rate and the CPU a SUBMIT, user and kernel. Built and run by scripts/durable-ceiling.sh.
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

static const char *parts[] = {"indexes", "facts", "reply", "outbox", "meta"};

/// Whether today's rows leave out `part` (OMIT, a comma-separated list).
static int omitted(const char *part) {
    const char *o = getenv("OMIT");
    if (!o) return 0;
    size_t n = strlen(part);
    for (const char *p = o; (p = strstr(p, part)); p += n)
        if ((p == o || p[-1] == ',') && (p[n] == 0 || p[n] == ',')) return 1;
    return 0;
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql) {
    sqlite3_stmt *s; CK(db, sqlite3_prepare_v2(db, sql, -1, &s, 0)); return s;
}

int main(int argc, char **argv) {
    const char *usage = "usage: [OMIT=part,…] durable-ceiling <db> <submits> [batch=256] [today|target4|onerow]\n";
    if (argc < 3 || argc > 5) { fputs(usage, stderr); return 2; }
    const char *path = argv[1]; long total = atol(argv[2]); int batch = argc > 3 ? atoi(argv[3]) : 256;
    const char *mode = argc > 4 ? argv[4] : "today";
    if (total <= 0 || batch <= 0 || (strcmp(mode, "today") && strcmp(mode, "target4") && strcmp(mode, "onerow"))) { fputs(usage, stderr); return 2; }
    int today = !strcmp(mode, "today"), onerow = !strcmp(mode, "onerow");
    const char *omit = getenv("OMIT");
    if (omit && *omit) {
        // Every name in OMIT must be a part: a misspelt one would print a figure for rows it did not leave out.
        size_t len = 0;
        for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) if (omitted(parts[i])) len += strlen(parts[i]) + 1;
        if (!today || len != strlen(omit) + 1) { fprintf(stderr, "OMIT takes today's parts, comma-separated: indexes, facts, reply, outbox, meta\n"); return 2; }
    }
    char p[1024];
    unlink(path); snprintf(p, sizeof p, "%s-wal", path); unlink(p); snprintf(p, sizeof p, "%s-shm", path); unlink(p);
    sqlite3 *db; CK(db, sqlite3_open(path, &db));
    // Muster's settings; SQLite's own checkpoints (the broker's run on a thread of their own).
    CK(db, sqlite3_exec(db, "PRAGMA page_size=8192; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", 0, 0, 0));
    sqlite3_stmt *check = prepare(db, "SELECT (SELECT journal_mode FROM pragma_journal_mode) || ' ' || (SELECT synchronous FROM pragma_synchronous)");
    CK(db, sqlite3_step(check));
    if (strcmp((const char *)sqlite3_column_text(check, 0), "wal 2")) { fprintf(stderr, "not WAL with synchronous=FULL\n"); return 1; }
    sqlite3_finalize(check);
    // The case: today a rowid table keyed by text (two B-trees), target 4's one B-tree.
    CK(db, sqlite3_exec(db, today
        ? "CREATE TABLE cases (case_id TEXT PRIMARY KEY, source TEXT NOT NULL, external_ref TEXT NOT NULL,"
          "  category TEXT NOT NULL, grid TEXT NOT NULL, title TEXT NOT NULL, address TEXT, state TEXT NOT NULL,"
          "  accepted_at INTEGER NOT NULL, merge_key TEXT, UNIQUE (source, external_ref));"
        : "CREATE TABLE cases (case_id TEXT PRIMARY KEY, source TEXT NOT NULL, external_ref TEXT NOT NULL,"
          "  category TEXT NOT NULL, grid TEXT NOT NULL, title TEXT NOT NULL, address TEXT, state TEXT NOT NULL,"
          "  accepted_at INTEGER NOT NULL, merge_key TEXT, UNIQUE (source, external_ref)) WITHOUT ROWID;", 0, 0, 0));
    CK(db, sqlite3_exec(db,
        "CREATE TABLE events (seq INTEGER PRIMARY KEY, case_id TEXT NOT NULL, type TEXT NOT NULL, at INTEGER NOT NULL,"
        "  actor TEXT NOT NULL, data BLOB NOT NULL, hash BLOB NOT NULL, submitted BLOB);"
        "CREATE INDEX events_by_case ON events (case_id, seq);"
        "CREATE TABLE dispatches (dispatch_id TEXT PRIMARY KEY, case_id TEXT NOT NULL, agency TEXT NOT NULL,"
        "  state TEXT NOT NULL, sent_at INTEGER NOT NULL, ack_by INTEGER, resolve_by INTEGER) WITHOUT ROWID;"
        "CREATE TABLE ladders (owner TEXT PRIMARY KEY, case_id TEXT NOT NULL, next_due INTEGER NOT NULL,"
        "  rungs TEXT NOT NULL) WITHOUT ROWID;", 0, 0, 0));
    if (today && !omitted("indexes")) CK(db, sqlite3_exec(db,
        "CREATE INDEX cases_by_state ON cases (state, case_id);"
        "CREATE INDEX cases_by_merge_key ON cases (merge_key, case_id) WHERE merge_key IS NOT NULL;"
        "CREATE INDEX dispatches_by_case ON dispatches (case_id);"
        "CREATE INDEX ladders_by_due ON ladders (next_due);", 0, 0, 0));
    if (today) CK(db, sqlite3_exec(db,
        "CREATE TABLE requests (adapter TEXT NOT NULL, request_id TEXT NOT NULL, command TEXT NOT NULL, reply BLOB NOT NULL,"
        "  at INTEGER NOT NULL, PRIMARY KEY (adapter, request_id)) WITHOUT ROWID;"
        "CREATE TABLE outbox (delivery INTEGER PRIMARY KEY, target TEXT NOT NULL, command TEXT NOT NULL, body BLOB NOT NULL,"
        "  dispatch_id TEXT, created_at INTEGER NOT NULL, grid TEXT);"
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;", 0, 0, 0));
    int facts = today && !omitted("facts"), reply = today && !omitted("reply"), outbox = today && !omitted("outbox"),
        meta = today && !omitted("meta");
    sqlite3_stmt *cs = prepare(db, "INSERT INTO cases VALUES (?,?,?,?,?,?,?,?,?,?)");
    sqlite3_stmt *ev = prepare(db, "INSERT INTO events VALUES (?,?,?,?,'cintake-12539-6b1495c1',?,?,?)");
    sqlite3_stmt *ds = prepare(db, "INSERT INTO dispatches VALUES (?,?,?,?,?,?,?)");
    sqlite3_stmt *ld = prepare(db, "INSERT INTO ladders VALUES (?,?,?,?)");
    sqlite3_stmt *rq = today ? prepare(db, "INSERT INTO requests VALUES ('cintake-12539-6b1495c1',?,'ACCEPTED',?,?)") : 0;
    sqlite3_stmt *ob = today ? prepare(db, "INSERT INTO outbox VALUES (?,'agency:reli','DISPATCH',?,?,?,'zz/erqi/jiefanglu')") : 0;
    sqlite3_stmt *mt = today ? prepare(db, "INSERT OR REPLACE INTO meta VALUES ('head_seq', ?), ('head_hash', ?), ('last_delivery', ?)") : 0;
    // Bytes of today's rows (the broker's database after 3,000 SUBMITs): the three facts 448, 324
    // and 891 B and the submitted body 195, the rungs ~600, the stored reply ~100, the outbox's
    // DISPATCH ~450. Target 4's, cut to its 1.5 KB: one fact 600 B, the rungs 300. Onerow's: the
    // three facts' 1,663 B, the body 195 and three 32-B hashes in one row (the buffer holds the largest).
    char bytes[2048], hash[32], caseID[24], dispatchID[24], ref[64], address[48], mergeKey[128], requestID[24];
    memset(bytes, 'b', sizeof bytes); memset(hash, 7, sizeof hash);
    const long long t0ms = 1796511169452LL;
    long n = 0; double start = now();
    while (n < total) {
        CK(db, sqlite3_exec(db, "BEGIN IMMEDIATE", 0, 0, 0));
        for (int i = 0; i < batch && n < total; i++, n++) {
            long long at = t0ms + n;
            // Ids as the broker makes them; the references, addresses and request ids as the
            // harness's client does (numbers unpadded: their indexes are written all over).
            snprintf(caseID, sizeof caseID, "C%010ld", n + 1);
            snprintf(dispatchID, sizeof dispatchID, "D%010ld", n + 1);
            snprintf(ref, sizeof ref, "-12539-6b1495c1-%ld-%lld", n, 30470570571409LL + n * 997);
            snprintf(address, sizeof address, "解放路%ld号", n);
            snprintf(mergeKey, sizeof mergeKey, "heating_not_warm\x1fzz/erqi/jiefanglu\x1f%s", address);
            snprintf(requestID, sizeof requestID, "s%ld", n);
            sqlite3_bind_text(cs, 1, caseID, -1, SQLITE_STATIC);
            sqlite3_bind_text(cs, 2, "hotline_12345", -1, SQLITE_STATIC);
            sqlite3_bind_text(cs, 3, ref, -1, SQLITE_STATIC);
            sqlite3_bind_text(cs, 4, "heating_not_warm", -1, SQLITE_STATIC);
            sqlite3_bind_text(cs, 5, "zz/erqi/jiefanglu", -1, SQLITE_STATIC);
            sqlite3_bind_text(cs, 6, "暖气不热", -1, SQLITE_STATIC);
            sqlite3_bind_text(cs, 7, address, -1, SQLITE_STATIC);
            sqlite3_bind_text(cs, 8, "dispatched", -1, SQLITE_STATIC);
            sqlite3_bind_int64(cs, 9, at);
            sqlite3_bind_text(cs, 10, mergeKey, -1, SQLITE_STATIC);
            CK(db, sqlite3_step(cs)); sqlite3_reset(cs);
            for (int k = 0; k < (facts ? 3 : 1); k++) {
                static const char *types[] = {"case.accepted", "case.dispatched", "clock.scheduled"};
                static const int sizes[] = {448, 324, 891};
                sqlite3_bind_int64(ev, 1, facts ? 3 * n + 1 + k : n + 1);
                sqlite3_bind_text(ev, 2, caseID, -1, SQLITE_STATIC);
                sqlite3_bind_text(ev, 3, types[k], -1, SQLITE_STATIC);
                sqlite3_bind_int64(ev, 4, at);
                sqlite3_bind_blob(ev, 5, bytes, today ? sizes[k] : onerow ? 448 + 324 + 891 : 600, SQLITE_STATIC);
                sqlite3_bind_blob(ev, 6, onerow ? bytes : hash, onerow ? 3 * sizeof hash : sizeof hash, SQLITE_STATIC);
                if ((today || onerow) && k == 0) sqlite3_bind_blob(ev, 7, bytes, 195, SQLITE_STATIC); else sqlite3_bind_null(ev, 7);
                CK(db, sqlite3_step(ev)); sqlite3_reset(ev);
            }
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
            sqlite3_bind_text(ld, 4, bytes, today ? 600 : 300, SQLITE_STATIC);
            CK(db, sqlite3_step(ld)); sqlite3_reset(ld);
            if (reply) {
                sqlite3_bind_text(rq, 1, requestID, -1, SQLITE_STATIC);
                sqlite3_bind_blob(rq, 2, bytes, 100, SQLITE_STATIC);
                sqlite3_bind_int64(rq, 3, at);
                CK(db, sqlite3_step(rq)); sqlite3_reset(rq);
            }
            if (outbox) {
                sqlite3_bind_int64(ob, 1, n + 1);
                sqlite3_bind_blob(ob, 2, bytes, 450, SQLITE_STATIC);
                sqlite3_bind_text(ob, 3, dispatchID, -1, SQLITE_STATIC);
                sqlite3_bind_int64(ob, 4, at);
                CK(db, sqlite3_step(ob)); sqlite3_reset(ob);
            }
        }
        if (meta) {
            sqlite3_bind_int64(mt, 1, 3 * n);
            sqlite3_bind_blob(mt, 2, hash, sizeof hash, SQLITE_STATIC);
            sqlite3_bind_int64(mt, 3, n);
            CK(db, sqlite3_step(mt)); sqlite3_reset(mt);
        }
        CK(db, sqlite3_exec(db, "COMMIT", 0, 0, 0));
    }
    double secs = now() - start;
    // CPU as well as the rate: the rate counts the fsyncs' waits, which a broker overlaps with
    // its other thread's work.
    struct rusage ru; getrusage(RUSAGE_SELF, &ru);
    double user = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6, sys = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    printf("rows=%s%s%s submits=%ld batch=%d secs=%.3f submits/s=%.0f cpu_us=%.1f user_us=%.1f kernel_us=%.1f\n", mode,
           omit && *omit ? " without=" : "", omit && *omit ? omit : "", n, batch, secs, n / secs,
           (user + sys) * 1e6 / n, user * 1e6 / n, sys * 1e6 / n);
    sqlite3_finalize(cs); sqlite3_finalize(ev); sqlite3_finalize(ds); sqlite3_finalize(ld);
    if (today) { sqlite3_finalize(rq); sqlite3_finalize(ob); sqlite3_finalize(mt); }
    sqlite3_close(db);
    return 0;
}
