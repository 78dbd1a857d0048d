#ifndef MUSTER_CSQLITESETUP_H
#define MUSTER_CSQLITESETUP_H

/// Turns off SQLite's global memory statistics (SQLITE_CONFIG_MEMSTATUS): with them on, every
/// sqlite3_malloc and sqlite3_free of every connection takes one process-wide mutex, and the
/// broker's committing, reading and checkpointing threads queued on it (~2.5 futex calls a
/// lifecycle). Must run before SQLite initialises; returns SQLite's result code (SQLITE_MISUSE
/// when a connection was opened first, and then nothing changes).
int muster_sqlite_memstatus_off(void);

/// Whether SQLite counts the memory it holds (0 when the statistics are off).
int muster_sqlite_memory_counted(void);

#endif
