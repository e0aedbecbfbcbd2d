// The socket set-up the agents need, each returning -errno on failure.
#define _GNU_SOURCE
#include "exchange_shim.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int rtes_tcp_listen(uint32_t address, uint16_t port, int backlog) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -errno;
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) goto fail;
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(address);
    if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0) goto fail;
    if (listen(fd, backlog) != 0) goto fail;
    return fd;
fail:;
    int error = errno;
    close(fd);
    return -error;
}

int rtes_socket_local_port(int fd) {
    struct sockaddr_in sin;
    socklen_t length = sizeof sin;
    if (getsockname(fd, (struct sockaddr *)&sin, &length) != 0) return -errno;
    return ntohs(sin.sin_port);
}

int rtes_socket_peer_ipv4(int fd, uint32_t *address) {
    struct sockaddr_in sin;
    socklen_t length = sizeof sin;
    if (getpeername(fd, (struct sockaddr *)&sin, &length) != 0) return -errno;
    if (sin.sin_family != AF_INET) return -EAFNOSUPPORT;
    *address = ntohl(sin.sin_addr.s_addr);
    return 0;
}

int rtes_socket_shutdown(int fd) {
    return shutdown(fd, SHUT_RDWR) == 0 ? 0 : -errno;
}
