/* IPv6 socket addresses as strace prints them in each style: loopback, a link-local address with its
 * interface, a global one with a scope it does not use, a 24-byte sockaddr_in6 without a scope.
 *   inet6 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void send_to(int s, const char *addr, unsigned scope, socklen_t len)
{
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof(a));
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(9);
    a.sin6_flowinfo = htonl(0x12345);
    inet_pton(AF_INET6, addr, &a.sin6_addr);
    a.sin6_scope_id = scope;
    sendto(s, "x", 1, 0, (struct sockaddr *)&a, len);
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "inet6") != 0)
        return 2;
    int s = socket(AF_INET6, SOCK_DGRAM, 0);
    close(-4242);  /* the marker the tests compare from */
    send_to(s, "::1", 0, sizeof(struct sockaddr_in6));
    send_to(s, "fe80::1", 1, sizeof(struct sockaddr_in6));
    send_to(s, "ff02::1", 1, sizeof(struct sockaddr_in6));
    send_to(s, "2001:db8::1", 7, sizeof(struct sockaddr_in6));
    send_to(s, "::1", 0, 24);
    close(s);
    return 0;
}
