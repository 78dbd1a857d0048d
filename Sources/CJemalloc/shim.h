// jemalloc from Debian's libjemalloc-dev, linked into the muster executable: as a library the
// process loads before libc, it serves every malloc and free (Swift's runtime, SQLite, libzmq).
// Only its control call is declared here; <jemalloc/jemalloc.h> would declare malloc and free a
// second time beside Glibc's.
#include <stddef.h>

int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);
