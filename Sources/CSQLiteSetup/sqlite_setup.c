// sqlite3_config is variadic, which Swift cannot call: these two lines are why this target is C.
#include <sqlite3.h>
#include "CSQLiteSetup.h"

int muster_sqlite_memstatus_off(void) { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }

int muster_sqlite_memory_counted(void) { return sqlite3_memory_used() > 0; }
