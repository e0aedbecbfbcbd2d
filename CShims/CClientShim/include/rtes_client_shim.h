#ifndef RTES_CLIENT_SHIM_H
#define RTES_CLIENT_SHIM_H

// What clients and tools (ExchangeClient, rtes-client, rtes-loadgen) need from C besides
// time (CClock): error text, TCP socket options, close, the thread's timer slack. Links
// nothing beyond libc, so a client does not pull in liburing, libnuma or libhugetlbfs.
// The appliance's shim (CExchangeShim) includes this header. Every call that can fail
// returns 0 or a positive value on success and -errno on failure.

#include <stddef.h>

/// Writes strerror(errnum) (NUL-terminated, truncated to fit) into buf.
/// Returns the length written, or -EINVAL for a missing buffer.
int rtes_strerror(int errnum, char *buf, size_t capacity);

/// The calling thread's timer slack in nanoseconds (prctl PR_GET_TIMERSLACK), or -errno.
long rtes_current_thread_timer_slack(void);

/// Sets the calling thread's timer slack (prctl PR_SET_TIMERSLACK; 0 restores the
/// thread's default). Returns 0 or -errno.
int rtes_set_current_thread_timer_slack(unsigned long nanoseconds);

/// Sets TCP_NODELAY. Returns 0 or -errno.
int rtes_tcp_set_nodelay(int fd, int on);

/// close(fd). Returns 0 or -errno.
int rtes_close(int fd);

#endif
