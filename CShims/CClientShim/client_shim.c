// Error text, socket options, close and timer slack: the C that clients need, libc only.
#define _GNU_SOURCE
#include "rtes_client_shim.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

// ---- Errors ----------------------------------------------------------------

int rtes_strerror(int errnum, char *buf, size_t capacity) {
    if (buf == NULL || capacity == 0) return -EINVAL;
    char scratch[256];
    const char *text = strerror_r(errnum, scratch, sizeof scratch); // GNU variant
    size_t length = strlen(text);
    if (length >= capacity) length = capacity - 1;
    memcpy(buf, text, length);
    buf[length] = '\0';
    return (int)length;
}

// ---- Threads: timer slack --------------------------------------------------

long rtes_current_thread_timer_slack(void) {
    int rc = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
    return rc < 0 ? -errno : rc;
}

int rtes_set_current_thread_timer_slack(unsigned long nanoseconds) {
    return prctl(PR_SET_TIMERSLACK, nanoseconds, 0, 0, 0) < 0 ? -errno : 0;
}

// ---- Sockets ---------------------------------------------------------------

int rtes_tcp_set_nodelay(int fd, int on) {
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == 0 ? 0 : -errno;
}

int rtes_close(int fd) {
    // close() is not retried on EINTR: on Linux the descriptor is released either way.
    return close(fd) == 0 ? 0 : -errno;
}
