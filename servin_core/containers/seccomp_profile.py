"""The default seccomp profile, as data: the same choices as docker's.

Everything not listed fails with EPERM. Most syscalls are allowed outright;
some only on some architectures; some only when the container holds the
capability that the syscall needs anyway (so a ``--cap-add`` also opens the
syscall); ``clone`` without CAP_SYS_ADMIN is allowed only without namespace
flags, and ``clone3`` (whose flags seccomp cannot see) then reports ENOSYS so
that C libraries fall back to ``clone``. ``personality`` is limited to the
few personas programs actually ask for.

Architectures are named as Go names them (``amd64``, ``arm64``), because that
is how docker's profile files name them, and :mod:`seccomp` reads those files
into the same structure.
"""

from __future__ import annotations

from servin_core._dataclass import dataclass

__all__ = ["ARCH_MAP", "DEFAULT_RULES", "Rule"]


@dataclass(frozen=True, slots=True, eq=False)
class Rule:
    """One syscall rule with the conditions under which it applies."""

    names: tuple[str, ...]
    action: str = "SCMP_ACT_ALLOW"
    errno: int | None = None
    args: tuple[dict[str, object], ...] = ()
    arches: tuple[str, ...] = ()
    """Applies only on these architectures (Go names); empty is all."""
    caps: tuple[str, ...] = ()
    """Applies only if the container holds all of these."""
    min_kernel: tuple[int, int] | None = None
    not_arches: tuple[str, ...] = ()
    not_caps: tuple[str, ...] = ()
    """Does not apply if the container holds any of these."""


ARCH_MAP: dict[str, tuple[str, ...]] = {
    "SCMP_ARCH_X86_64": ("SCMP_ARCH_X86", "SCMP_ARCH_X32"),
    "SCMP_ARCH_AARCH64": ("SCMP_ARCH_ARM",),
}
"""Native seccomp architecture -> the others its processes may call as."""

_ALWAYS = """
accept accept4 access adjtimex alarm bind brk cachestat capget capset chdir chmod
chown chown32 clock_adjtime clock_adjtime64 clock_getres clock_getres_time64
clock_gettime clock_gettime64 clock_nanosleep clock_nanosleep_time64 close
close_range connect copy_file_range creat dup dup2 dup3 epoll_create epoll_create1
epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd
eventfd2 execve execveat exit exit_group faccessat faccessat2 fadvise64
fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchmodat2 fchown
fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork
fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate
ftruncate64 futex futex_requeue futex_time64 futex_wait futex_waitv futex_wake
futimesat getcpu getcwd getdents getdents64 getegid getegid32 geteuid geteuid32
getgid getgid32 getgroups getgroups32 getitimer getpeername getpgid getpgrp getpid
getppid getpriority getrandom getresgid getresgid32 getresuid getresuid32
getrlimit get_robust_list getrusage getsid getsockname getsockopt get_thread_area
gettid gettimeofday getuid getuid32 getxattr inotify_add_watch inotify_init
inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy io_getevents
io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit ipc
kill landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown
lchown32 lgetxattr link linkat listen listxattr llistxattr _llseek lremovexattr
lseek lsetxattr lstat lstat64 madvise map_shadow_stack membarrier memfd_create
memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall mmap mmap2
mprotect mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64
mq_timedsend mq_timedsend_time64 mq_unlink mremap msgctl msgget msgrcv msgsnd msync
munlock munlockall munmap name_to_handle_at nanosleep newfstatat _newselect open
openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc pkey_free
pkey_mprotect poll ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64
process_mrelease pselect6 pselect6_time64 pwrite64 pwritev pwritev2 read readahead
readlink readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg
remap_file_pages removexattr rename renameat renameat2 restart_syscall rmdir rseq
rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn
rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo
sched_getaffinity sched_getattr sched_getparam sched_get_priority_max
sched_get_priority_min sched_getscheduler sched_rr_get_interval
sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam
sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop
semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto setfsgid
setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer
setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid
setresuid32 setreuid setreuid32 setrlimit set_robust_list setsid setsockopt
set_thread_area set_tid_address setuid setuid32 setxattr shmat shmctl shmdt shmget
shutdown sigaltstack signalfd signalfd4 sigprocmask sigreturn socketcall
socketpair splice stat stat64 statfs statfs64 statx symlink symlinkat sync
sync_file_range syncfs sysinfo tee tgkill time timer_create timer_delete
timer_getoverrun timer_gettime timer_gettime64 timer_settime timer_settime64
timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime
timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask uname unlink
unlinkat utime utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid
waitpid write writev
"""

# Each needs CAP_SYS_ADMIN for anything useful; without it they stay closed.
_SYS_ADMIN = """
bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount
mount_setattr move_mount open_tree perf_event_open quotactl quotactl_fd
setdomainname sethostname setns syslog umount umount2 unshare
"""

# Namespace flags of clone(2): CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|
# NEWPID|NEWNET. Without CAP_SYS_ADMIN, clone is allowed when none is set.
_CLONE_NS_FLAGS = 0x7E020000


def _arg(index: int, op: str, value: int) -> dict[str, object]:
    # valueTwo matters only to SCMP_CMP_MASKED_EQ: (arg & value) == valueTwo.
    return {"index": index, "value": value, "valueTwo": 0, "op": op}


def _personality(value: int) -> Rule:
    return Rule(("personality",), args=(_arg(0, "SCMP_CMP_EQ", value),))


def _with_cap(cap: str, *names: str) -> Rule:
    return Rule(names, caps=(cap,))


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(tuple(_ALWAYS.split())),
    Rule(("process_vm_readv", "process_vm_writev", "ptrace"), min_kernel=(4, 8)),
    # AF_VSOCK sockets reach the host; every other family is allowed.
    Rule(("socket",), args=(_arg(0, "SCMP_CMP_NE", 40),)),
    # PER_LINUX, UNAME26, ADDR_NO_RANDOMIZE, both, and the query 0xffffffff.
    *(_personality(v) for v in (0x0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF)),
    Rule(
        ("arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2"),
        arches=("arm", "arm64"),
    ),
    Rule(("breakpoint", "cacheflush", "set_tls"), arches=("arm", "arm64")),
    Rule(("arch_prctl",), arches=("amd64", "x32")),
    Rule(("modify_ldt",), arches=("amd64", "x32", "x86")),
    _with_cap("CAP_DAC_READ_SEARCH", "open_by_handle_at"),
    _with_cap("CAP_SYS_ADMIN", *_SYS_ADMIN.split()),
    Rule(
        ("clone",),
        args=(_arg(0, "SCMP_CMP_MASKED_EQ", _CLONE_NS_FLAGS),),
        not_caps=("CAP_SYS_ADMIN",),
        not_arches=("s390", "s390x"),
    ),
    Rule(
        ("clone3",),
        action="SCMP_ACT_ERRNO",
        errno=38,  # ENOSYS
        not_caps=("CAP_SYS_ADMIN",),
    ),
    _with_cap("CAP_SYS_BOOT", "reboot"),
    _with_cap("CAP_SYS_CHROOT", "chroot"),
    _with_cap("CAP_SYS_MODULE", "delete_module", "init_module", "finit_module"),
    _with_cap("CAP_SYS_PACCT", "acct"),
    _with_cap(
        "CAP_SYS_PTRACE",
        "kcmp",
        "pidfd_getfd",
        "process_madvise",
        "process_vm_readv",
        "process_vm_writev",
        "ptrace",
    ),
    _with_cap("CAP_SYS_RAWIO", "iopl", "ioperm"),
    _with_cap(
        "CAP_SYS_TIME", "settimeofday", "stime", "clock_settime", "clock_settime64"
    ),
    _with_cap("CAP_SYS_TTY_CONFIG", "vhangup"),
    _with_cap(
        "CAP_SYS_NICE",
        "get_mempolicy",
        "mbind",
        "set_mempolicy",
        "set_mempolicy_home_node",
    ),
    _with_cap("CAP_SYSLOG", "syslog"),
    _with_cap("CAP_BPF", "bpf"),
    _with_cap("CAP_PERFMON", "perf_event_open"),
)
