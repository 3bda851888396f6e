"""Syscalls that make descriptors on sockets and pipes, whose inode numbers are what strace's -y shows
for them (`3<socket:[12345]>`, `4<pipe:[678]>`).

With fd_paths the BPF program reads each new descriptor's inode from the kernel when such a syscall
returns (task->files->fdt->fd[n]->f_inode->i_ino), into one slot of its exit record named FD_INODE_SLOT:
the descriptor it returns, or the two it wrote into an int[2] (pipe's, socketpair's). That names the
descriptor even once its process has gone, which /proc cannot.
"""

from __future__ import annotations

FD_INODE_SLOT = "fd_inode"  # the exit record's slot: one u64 inode per descriptor (0: not found)

# syscall -> (what the descriptors are, None: the one returned, else the argument pointing to the int[2])
INODE_DESCRIPTORS: dict[str, tuple[str, str | None]] = {
    "socket": ("socket", None), "accept": ("socket", None), "accept4": ("socket", None),
    "socketpair": ("socket", "usockvec"), "pipe": ("pipe", "fildes"), "pipe2": ("pipe", "fildes"),
}

# The struct members the kernel read walks, as btf: parameters name them (in this order, TS_P_FD_*).
FD_INODE_MEMBERS = ("task_struct.files", "files_struct.fdt", "fdtable.max_fds", "fdtable.fd", "file.f_inode",
                    "inode.i_ino")

# -yy's endpoints of TCP, UDP, UNIX and netlink sockets as they are when these syscalls return, into
# the exit record's SOCK_ENDS_SLOT: syscall -> the argument holding the socket's descriptor (None: the
# descriptor returned). These are where a socket gets its addresses (a send binds a UDP socket that was not); strace
# keeps the first endpoints it finds for a socket (socketutils.c caches them by inode), and so does -yy.
# The ones given a descriptor record it whatever they return: the kernel binds an unbound UDP socket before
# it sends (inet_send_prepare) or connects (inet_dgram_connect), and keeps the port when the call then
# fails (EMSGSIZE, EACCES for a broadcast, EDESTADDRREQ, ECONNREFUSED, a route not found).
SOCK_ENDS_SLOT = "sock_ends"
# write and writev on a socket are sends too (sock_write_iter): an unbound UDP socket's failed write binds it.
ENDPOINT_SYSCALLS: dict[str, str | None] = {"bind": "fd", "listen": "fd", "connect": "fd", "accept": None,
                                            "accept4": None, "sendto": "fd", "sendmsg": "fd", "sendmmsg": "fd",
                                            "write": "fd", "writev": "fd"}
# the slot's payload: family u16, local port u16 (host order), remote port u16 (network order), 2 unused
# bytes, then the IPv4 local and remote addresses (4 bytes each) and the IPv6 ones (16 each)
SOCK_ENDS_SIZE = 48
# file->private_data (struct socket) ->sk (struct sock, whose first member is its struct sock_common)
# A UNIX socket's slot holds instead: family u16, its name's length u16 (0: unnamed), 4 unused bytes, its
# peer's inode u64 (0: none, or a connection not accepted yet), the first UNIX_NAME_MAX bytes of its
# name's sun_path (unix_sock.addr); a netlink socket's: family u16, 6 unused bytes, its port id u32.
UNIX_NAME_MAX = 32
SOCK_ENDS_MEMBERS = ("file.private_data", "socket.sk", "sock_common.skc_family", "sock_common.skc_num",
                     "sock_common.skc_dport", "sock_common.skc_rcv_saddr", "sock_common.skc_daddr",
                     "sock_common.skc_v6_rcv_saddr", "sock_common.skc_v6_daddr", "unix_sock.peer",
                     "unix_sock.addr", "unix_address.len", "unix_address.name", "sock.sk_socket", "socket.file",
                     "netlink_sock.portid")

# fd_paths' bookkeeping: the syscalls from which the descriptor table -y keeps (format/fdpaths.py) learns
# what descriptors are - the ones that make, copy, close or retag them, exec (which drops close-on-exec
# ones), clone (CLONE_FILES, CLONE_PIDFD), chdir (relative opens) and unlink (" (deleted)") - each with the
# arguments whose memory that needs copied. When the spec does not trace one, the planner records it for
# the table only, never printed nor counted (plan/planner.py bookkeeping). Left out: the syscalls that move
# data (recvmsg's SCM_RIGHTS descriptors, the -yy endpoints a first send leaves), whose copies cost every
# message; -y falls back on /proc and sock_diag for what they would have said.
DESCRIPTOR_BOOKKEEPING: dict[str, tuple[str, ...]] = {
    # make a descriptor on a path
    "open": ("filename",), "openat": ("filename",), "openat2": ("filename",), "creat": ("pathname",),
    "open_tree": ("filename",), "open_tree_attr": ("filename",), "fsmount": (), "open_by_handle_at": (),
    "mq_open": (),
    # sockets and pipes (their inodes are read at exit, FD_INODE_SLOT)
    "socket": (), "socketpair": ("usockvec",), "accept": (), "accept4": (), "pipe": ("fildes",),
    "pipe2": ("fildes",),
    # -yy: where a socket gets its addresses (the kernel's, SOCK_ENDS_SLOT; a UNIX name longer than it holds)
    "bind": ("umyaddr",), "listen": (), "connect": (),
    # copies, changes and ends
    "dup": (), "dup2": (), "dup3": (), "fcntl": (), "close": (), "close_range": (),
    # anonymous inodes and the like
    "memfd_create": ("uname",), "memfd_secret": (), "eventfd": (), "eventfd2": (), "epoll_create": (),
    "epoll_create1": (), "timerfd_create": (), "signalfd": (), "signalfd4": (), "inotify_init": (),
    "inotify_init1": (), "fanotify_init": (), "userfaultfd": (), "perf_event_open": (), "io_uring_setup": (),
    "pidfd_open": (), "pidfd_getfd": (), "fsopen": (), "fspick": (), "landlock_create_ruleset": (), "bpf": (),
    # processes: exec drops close-on-exec descriptors, clone may share the table or make a pidfd
    "execve": (), "execveat": (), "clone": ("parent_tidptr",), "clone3": ("uargs",),
    # what relative paths start from, and files removed under open descriptors
    "chdir": ("filename",), "fchdir": (), "unlink": ("pathname",), "unlinkat": ("pathname",),
    "rmdir": ("pathname",),
}
