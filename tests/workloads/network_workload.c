/*
 * A program whose network syscalls are known: TCP over IPv4 and IPv6 loopback, UDP, a Unix socket
 * with a path and one in the abstract namespace, a socketpair, socket options, and failures
 * (a refused connection, a bad descriptor). tests/test_e2e_specs.py compares tracespec with strace.
 * Usage: network_workload DIR   (DIR: a scratch directory for the Unix socket)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void tcp_round_trip(int family)
{
    int srv = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof(ss));
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof(*in);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_addr = in6addr_loopback;
        len = sizeof(*in6);
    }
    bind(srv, (struct sockaddr *)&ss, len);
    listen(srv, 4);
    socklen_t got = sizeof(ss);
    getsockname(srv, (struct sockaddr *)&ss, &got);
    int cli = socket(family, SOCK_STREAM, 0);
    connect(cli, (struct sockaddr *)&ss, got);
    struct sockaddr_storage peer;
    socklen_t plen = sizeof(peer);
    int conn = accept4(srv, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
    sendto(cli, "ping over tcp", 13, 0, NULL, 0);
    char buf[64];
    recvfrom(conn, buf, sizeof(buf), 0, NULL, NULL);
    int nodelay = 0;
    socklen_t olen = sizeof(nodelay);
    getsockopt(cli, IPPROTO_TCP, TCP_NODELAY, &nodelay, &olen);
    shutdown(cli, SHUT_WR);
    close(conn);
    close(cli);
    close(srv);
}

static void udp_round_trip(void)
{
    int a = socket(AF_INET, SOCK_DGRAM, 0);
    int b = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(0), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(b, (struct sockaddr *)&in, sizeof(in));
    socklen_t len = sizeof(in);
    getsockname(b, (struct sockaddr *)&in, &len);
    sendto(a, "datagram", 8, 0, (struct sockaddr *)&in, sizeof(in));
    char buf[32];
    struct sockaddr_in from;
    socklen_t flen = sizeof(from);
    recvfrom(b, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
    close(a);
    close(b);
}

static void unix_sockets(const char *dir)
{
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    snprintf(un.sun_path, sizeof(un.sun_path), "%s/sock", dir);
    int srv = socket(AF_UNIX, SOCK_STREAM, 0);
    bind(srv, (struct sockaddr *)&un, sizeof(un));
    listen(srv, 1);
    int cli = socket(AF_UNIX, SOCK_STREAM, 0);
    connect(cli, (struct sockaddr *)&un, sizeof(un));
    int conn = accept(srv, NULL, NULL);
    close(conn);
    close(cli);
    close(srv);
    unlink(un.sun_path);

    struct sockaddr_un abs = {.sun_family = AF_UNIX};
    memcpy(abs.sun_path, "\0tracespec-abstract", 19);
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    bind(s, (struct sockaddr *)&abs, sizeof(sa_family_t) + 19);
    close(s);

    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    close(sv[0]);
    close(sv[1]);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    tcp_round_trip(AF_INET);
    tcp_round_trip(AF_INET6);
    udp_round_trip();
    unix_sockets(argv[1]);

    /* failures */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in closed = {.sin_family = AF_INET, .sin_port = htons(1), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    connect(s, (struct sockaddr *)&closed, sizeof(closed));
    close(s);
    sendto(-1, "x", 1, 0, NULL, 0);
    socket(12345, SOCK_STREAM, 0);
    return 0;
}
