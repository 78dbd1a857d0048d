// TCMalloc (gperftools' libtcmalloc_minimal, Debian's libgoogle-perftools-dev), linked into the
// muster executable: as a library the process loads before libc, it serves every malloc and free
// (Swift's runtime, SQLite, libzmq). Only its version call is declared here; <gperftools/tcmalloc.h>
// would declare malloc and free a second time beside Glibc's.

const char *tc_version(int *major, int *minor, const char **patch);
