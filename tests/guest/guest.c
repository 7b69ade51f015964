/*
 * Test guest for afmpeg's WASI host. Built with `zig cc -target wasm32-wasi -O2` by tests/unit/conftest.py.
 *
 * Usage: guest <sub-command> [args...]. Each sub-command exercises one part of the WASI host, prints what it
 * observed on stdout, and exits 0 on success. A failed CHECK prints "FAIL <line>: <what> (errno N: name)"
 * and exits 1.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define CHECK(cond, what)                                                                        \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            int e_ = errno;                                                                      \
            printf("FAIL %d: %s (errno %d: %s)\n", __LINE__, what, e_, strerror(e_));            \
            fflush(stdout);                                                                      \
            exit(1);                                                                             \
        }                                                                                        \
    } while (0)

static const char *errname(int e)
{
    switch (e) {
    case 0: return "OK";
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case EISDIR: return "EISDIR";
    case ENOTDIR: return "ENOTDIR";
    case ENOTEMPTY: return "ENOTEMPTY";
    case ENOTCAPABLE: return "ENOTCAPABLE";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EXDEV: return "EXDEV";
    case ESPIPE: return "ESPIPE";
    case EIO: return "EIO";
    case ENOSYS: return "ENOSYS";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case EMFILE: return "EMFILE";
    default: return "OTHER";
    }
}

static void write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        CHECK(w > 0, "write");
        p += w;
        n -= (size_t)w;
    }
}

static size_t read_all(int fd, char *buf, size_t cap)
{
    size_t total = 0;
    for (;;) {
        ssize_t r = read(fd, buf + total, cap - total);
        CHECK(r >= 0, "read");
        if (r == 0)
            break;
        total += (size_t)r;
        if (total == cap)
            break;
    }
    return total;
}

static void put_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0, "open for write");
    write_all(fd, text, strlen(text));
    CHECK(close(fd) == 0, "close");
}

static int cmd_cat(int argc, char **argv)
{
    CHECK(argc >= 3, "usage: cat PATH");
    int fd = open(argv[2], O_RDONLY);
    if (fd < 0) {
        printf("open-failed %s\n", errname(errno));
        return 2;
    }
    char buf[4096];
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0)
        fwrite(buf, 1, (size_t)r, stdout);
    CHECK(r == 0, "read");
    close(fd);
    return 0;
}

static int cmd_write(int argc, char **argv)
{
    CHECK(argc >= 4, "usage: write PATH TEXT");
    put_file(argv[2], argv[3]);
    printf("wrote %zu\n", strlen(argv[3]));
    return 0;
}

/* mp4-style: placeholder header, body, seek back and overwrite the header, then pwrite/pread. */
static int cmd_seekwrite(int argc, char **argv)
{
    CHECK(argc >= 3, "usage: seekwrite PATH");
    int fd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0, "open");
    write_all(fd, "HHHHHHHH", 8);
    write_all(fd, "body-body-body", 14);
    CHECK(lseek(fd, 0, SEEK_CUR) == 22, "tell after writes");
    CHECK(lseek(fd, 0, SEEK_SET) == 0, "seek to start");
    write_all(fd, "HEADER!!", 8);
    CHECK(lseek(fd, 0, SEEK_END) == 22, "seek end");
    write_all(fd, "-tail", 5);
    /* a write past the end leaves a zero-filled hole */
    CHECK(lseek(fd, 30, SEEK_SET) == 30, "seek past end");
    write_all(fd, "Z", 1);
    CHECK(pwrite(fd, "B", 1, 8) == 1, "pwrite");
    char buf[64] = {0};
    CHECK(pread(fd, buf, 4, 8) == 4, "pread");
    CHECK(memcmp(buf, "Body", 4) == 0, "pread content");
    CHECK(lseek(fd, 0, SEEK_CUR) == 31, "pwrite/pread keep the position");
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_size == 31, "fstat size");
    CHECK(lseek(fd, -1, SEEK_SET) == -1 && errno == EINVAL, "negative seek is EINVAL");
    CHECK(close(fd) == 0, "close");

    fd = open(argv[2], O_RDONLY);
    CHECK(fd >= 0, "reopen");
    size_t n = read_all(fd, buf, sizeof buf);
    CHECK(n == 31, "size after reopen");
    close(fd);
    fwrite(buf, 1, n, stdout);
    printf("\n");
    return 0;
}

static int cmd_append(int argc, char **argv)
{
    CHECK(argc >= 4, "usage: append PATH TEXT");
    int fd = open(argv[2], O_WRONLY | O_CREAT | O_APPEND, 0644);
    CHECK(fd >= 0, "open");
    CHECK(lseek(fd, 0, SEEK_SET) == 0, "seek start");
    write_all(fd, argv[3], strlen(argv[3])); /* O_APPEND: still goes to the end */
    close(fd);
    printf("ok\n");
    return 0;
}

static int cmd_truncate(int argc, char **argv)
{
    CHECK(argc >= 4, "usage: truncate PATH SIZE");
    int fd = open(argv[2], O_RDWR);
    CHECK(fd >= 0, "open");
    CHECK(ftruncate(fd, atoi(argv[3])) == 0, "ftruncate");
    struct stat st;
    CHECK(fstat(fd, &st) == 0, "fstat");
    close(fd);
    printf("size %lld\n", (long long)st.st_size);
    return 0;
}

static int cmd_excl(int argc, char **argv)
{
    CHECK(argc >= 3, "usage: excl PATH");
    int fd = open(argv[2], O_WRONLY | O_CREAT | O_EXCL, 0644);
    printf("first %s\n", fd >= 0 ? "OK" : errname(errno));
    if (fd >= 0) {
        write_all(fd, "x", 1);
        close(fd);
    }
    fd = open(argv[2], O_WRONLY | O_CREAT | O_EXCL, 0644);
    printf("second %s\n", fd >= 0 ? "OK" : errname(errno));
    return 0;
}

static int cmd_open_errno(int argc, char **argv)
{
    /* open each path read-only and report the errno the guest sees */
    for (int i = 2; i < argc; i++) {
        errno = 0;
        int fd = open(argv[i], O_RDONLY);
        printf("%s %s\n", argv[i], fd >= 0 ? "OK" : errname(errno));
        if (fd >= 0)
            close(fd);
    }
    return 0;
}

static int cmd_eof(int argc, char **argv)
{
    CHECK(argc >= 3, "usage: eof PATH");
    int fd = open(argv[2], O_RDONLY);
    CHECK(fd >= 0, "open");
    char buf[7];
    size_t total = 0;
    int reads = 0;
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0) {
        total += (size_t)r;
        reads++;
    }
    CHECK(r == 0, "read at EOF returns 0");
    CHECK(read(fd, buf, sizeof buf) == 0, "read past EOF returns 0 again");
    CHECK(lseek(fd, 0, SEEK_END) == (off_t)total, "SEEK_END is the size");
    CHECK(lseek(fd, 2, SEEK_SET) == 2, "seek back");
    CHECK(read(fd, buf, 1) == 1, "read after seek");
    CHECK(write(fd, "x", 1) == -1 && errno == EBADF, "write to a read-only fd is EBADF");
    close(fd);
    printf("total %zu reads %d second %c\n", total, reads, buf[0]);
    return 0;
}

static int cmd_stat(int argc, char **argv)
{
    for (int i = 2; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            printf("%s %s\n", argv[i], errname(errno));
            continue;
        }
        const char *kind = S_ISDIR(st.st_mode) ? "dir" : S_ISREG(st.st_mode) ? "file"
                           : S_ISCHR(st.st_mode)  ? "chr"
                                                  : "other";
        printf("%s %s %lld\n", argv[i], kind, S_ISREG(st.st_mode) ? (long long)st.st_size : 0LL);
    }
    return 0;
}

static int cmd_readdir(int argc, char **argv)
{
    CHECK(argc >= 3, "usage: readdir PATH");
    DIR *d = opendir(argv[2]);
    if (!d) {
        printf("opendir-failed %s\n", errname(errno));
        return 2;
    }
    struct dirent *e;
    int dots = 0;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) {
            dots++;
            continue;
        }
        printf("%s %s\n", e->d_type == DT_DIR ? "d" : e->d_type == DT_REG ? "f" : "?", e->d_name);
    }
    closedir(d);
    printf("dots %d\n", dots);
    return 0;
}

/* mkdir, rename, unlink, rmdir and their error cases, inside directory argv[2] (created here). */
static int cmd_dirops(int argc, char **argv)
{
    CHECK(argc >= 3, "usage: dirops DIR");
    char a[256], b[256], sub[256], c[256];
    const char *d = argv[2];
    snprintf(a, sizeof a, "%s/a.txt", d);
    snprintf(b, sizeof b, "%s/b.txt", d);
    snprintf(sub, sizeof sub, "%s/sub", d);
    snprintf(c, sizeof c, "%s/sub/c.txt", d);

    CHECK(mkdir(d, 0755) == 0, "mkdir");
    CHECK(mkdir(d, 0755) == -1 && errno == EEXIST, "mkdir existing is EEXIST");
    put_file(a, "alpha");
    CHECK(rename(a, b) == 0, "rename");
    CHECK(access(a, F_OK) == -1 && errno == ENOENT, "old name gone");
    CHECK(access(b, F_OK) == 0, "new name exists");
    CHECK(mkdir(sub, 0755) == 0, "mkdir sub");
    put_file(c, "gamma");
    CHECK(rmdir(sub) == -1 && errno == ENOTEMPTY, "rmdir non-empty is ENOTEMPTY");
    CHECK(unlink(sub) == -1, "unlink of a directory fails");
    printf("unlink-dir %s\n", errname(errno));
    CHECK(unlink(c) == 0, "unlink file");
    CHECK(unlink(c) == -1 && errno == ENOENT, "unlink missing is ENOENT");
    CHECK(rmdir(sub) == 0, "rmdir empty");
    CHECK(rmdir(b) == -1 && errno == ENOTDIR, "rmdir of a file is ENOTDIR");
    CHECK(mkdir("no/such/parent", 0755) == -1 && errno == ENOENT, "mkdir without parent is ENOENT");
    CHECK(open("no-such-dir/file", O_WRONLY | O_CREAT, 0644) == -1 && errno == ENOENT,
          "create in a missing directory is ENOENT");
    int fd = open(b, O_RDONLY | O_DIRECTORY);
    CHECK(fd == -1 && errno == ENOTDIR, "O_DIRECTORY on a file is ENOTDIR");
    CHECK(open(d, O_WRONLY) == -1 && errno == EISDIR, "opening a directory for writing is EISDIR");
    char link[64];
    CHECK(readlink(b, link, sizeof link) == -1 && errno == EINVAL, "readlink of a regular file is EINVAL");
    CHECK(readlink("nothing-here", link, sizeof link) == -1 && errno == ENOENT, "readlink of missing is ENOENT");
    CHECK(rename(b, "/tmp/moved") == -1 && errno == EXDEV, "rename across mounts is EXDEV");
    /* rename a directory with content, and onto an existing empty directory */
    char x[256], xf[256], y[256], yf[256];
    snprintf(x, sizeof x, "%s/x", d);
    snprintf(xf, sizeof xf, "%s/x/f.txt", d);
    snprintf(y, sizeof y, "%s/y", d);
    snprintf(yf, sizeof yf, "%s/y/f.txt", d);
    CHECK(mkdir(x, 0755) == 0, "mkdir x");
    put_file(xf, "moved with its directory");
    CHECK(mkdir(y, 0755) == 0, "mkdir y");
    CHECK(rename(x, y) == 0, "rename dir onto an empty dir");
    CHECK(access(x, F_OK) == -1 && errno == ENOENT, "old dir gone");
    CHECK(access(yf, F_OK) == 0, "file moved along");
    CHECK(rename(b, y) == -1 && errno == EISDIR, "rename file onto dir is EISDIR");
    CHECK(rename(y, b) == -1 && errno == ENOTDIR, "rename dir onto file is ENOTDIR");
    put_file(a, "replaced");
    CHECK(rename(a, b) == 0, "rename onto an existing file replaces it");
    printf("ok\n");
    return 0;
}

static int cmd_clock(void)
{
    struct timespec rt, m1, m2, res;
    CHECK(clock_gettime(CLOCK_REALTIME, &rt) == 0, "realtime");
    CHECK(clock_gettime(CLOCK_MONOTONIC, &m1) == 0, "monotonic");
    volatile unsigned spin = 0;
    for (unsigned i = 0; i < 100000; i++)
        spin += i;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &m2) == 0, "monotonic 2");
    CHECK(clock_getres(CLOCK_MONOTONIC, &res) == 0, "getres");
    int64_t d = (int64_t)(m2.tv_sec - m1.tv_sec) * 1000000000 + (m2.tv_nsec - m1.tv_nsec);
    CHECK(d >= 0, "monotonic does not go backwards");
    struct timespec nap = {0, 1000};
    CHECK(nanosleep(&nap, NULL) == 0, "nanosleep (poll_oneoff clock)");
    printf("realtime %lld\n", (long long)rt.tv_sec);
    printf("res %ld\n", (long)res.tv_nsec);
    return 0;
}

static void print_hex(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%02x", p[i]);
    printf("\n");
}

static int cmd_random(void)
{
    unsigned char a[32], b[32];
    CHECK(getentropy(a, sizeof a) == 0, "getentropy");
    CHECK(getentropy(b, sizeof b) == 0, "getentropy 2");
    print_hex(a, sizeof a);
    print_hex(b, sizeof b);
    return 0;
}

static int cmd_devices(void)
{
    unsigned char buf[64];
    int fd = open("/dev/urandom", O_RDONLY);
    CHECK(fd >= 0, "open /dev/urandom");
    CHECK(read(fd, buf, sizeof buf) == (ssize_t)sizeof buf, "read /dev/urandom");
    close(fd);
    print_hex(buf, sizeof buf);

    fd = open("/dev/null", O_RDWR);
    CHECK(fd >= 0, "open /dev/null");
    CHECK(write(fd, "discard me", 10) == 10, "write /dev/null");
    CHECK(read(fd, buf, sizeof buf) == 0, "read /dev/null is EOF");
    close(fd);

    fd = open("/dev/afmpeg-progress", O_WRONLY);
    CHECK(fd >= 0, "open progress device");
    write_all(fd, "{\"frame\":1}\n", 12);
    close(fd);

    CHECK(open("/dev/sda", O_RDONLY) == -1 && errno == ENOENT, "no other devices");
    printf("ok\n");
    return 0;
}

static int cmd_tmp(int argc, char **argv)
{
    const char *name = argc >= 3 ? argv[2] : "/tmp/scratch.bin";
    put_file(name, "private scratch data");
    int fd = open(name, O_RDONLY);
    CHECK(fd >= 0, "reopen tmp file");
    char buf[64];
    size_t n = read_all(fd, buf, sizeof buf);
    close(fd);
    CHECK(n == 20, "tmp content");
    CHECK(mkdir("/tmp/dir", 0755) == 0, "mkdir in /tmp");
    struct stat st;
    CHECK(stat("/tmp/dir", &st) == 0 && S_ISDIR(st.st_mode), "stat dir in /tmp");
    printf("ok\n");
    return 0;
}

/* allocate MB megabytes in 1 MiB chunks, touching each page; report how far it got */
static char *volatile chunks[4096];

static int cmd_malloc(int argc, char **argv)
{
    int mb = argc >= 3 ? atoi(argv[2]) : 64;
    if (mb > 4096)
        mb = 4096;
    int got = 0;
    for (int i = 0; i < mb; i++) {
        char *p = malloc(1 << 20);
        if (!p)
            break;
        for (int j = 0; j < (1 << 20); j += 4096)
            p[j] = (char)(j >> 12);
        chunks[i] = p;
        got++;
    }
    unsigned sum = 0;
    for (int i = 0; i < got; i++)
        for (int j = 0; j < (1 << 20); j += 4096)
            sum += (unsigned char)chunks[i][j];
    printf("allocated %d sum %u\n", got, sum);
    return got == mb ? 0 : 3;
}

static int cmd_busy(void)
{
    volatile uint64_t n = 0;
    for (;;)
        n++;
    return 0;
}

static int recurse(int depth)
{
    volatile char pad[256];
    pad[0] = (char)depth;
    return recurse(depth + 1) + pad[0];
}

/* write N bytes (a pattern) in uneven chunks with writev, read them back, print a checksum */
static int cmd_bigio(int argc, char **argv)
{
    CHECK(argc >= 4, "usage: bigio PATH N");
    size_t n = (size_t)atol(argv[3]);
    char *data = malloc(n);
    CHECK(data != NULL, "malloc");
    for (size_t i = 0; i < n; i++)
        data[i] = (char)(i * 31 + 7);
    int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0, "open");
    size_t off = 0, chunk = 1;
    while (off < n) {
        size_t len = chunk < n - off ? chunk : n - off;
        write_all(fd, data + off, len);
        off += len;
        chunk = chunk * 3 + 1;
    }
    close(fd);
    char *back = malloc(n + 1);
    fd = open(argv[2], O_RDONLY);
    CHECK(fd >= 0, "reopen");
    size_t got = read_all(fd, back, n + 1);
    close(fd);
    CHECK(got == n, "size read back");
    CHECK(memcmp(data, back, n) == 0, "content read back");
    uint32_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum = sum * 16777619u ^ (unsigned char)back[i];
    printf("sum %u\n", sum);
    return 0;
}

/* a second fd opened for reading sees what the first has written but not yet closed (mov faststart does this) */
static int cmd_readwhilewrite(int argc, char **argv)
{
    CHECK(argc >= 3, "usage: readwhilewrite PATH");
    int w = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(w >= 0, "open writer");
    write_all(w, "0123456789", 10);
    int r = open(argv[2], O_RDONLY);
    CHECK(r >= 0, "open reader");
    char buf[16] = {0};
    CHECK(read(r, buf, sizeof buf) == 10, "reader sees written bytes");
    struct stat st;
    CHECK(stat(argv[2], &st) == 0 && st.st_size == 10, "stat sees the open file's size");
    close(r);
    close(w);
    printf("%s\n", buf);
    return 0;
}

static int cmd_env(void)
{
    extern char **environ;
    int n = 0;
    for (char **e = environ; e && *e; e++)
        n++;
    printf("environ %d\n", n);
    return 0;
}

static int cmd_noclose(int argc, char **argv)
{
    /* write a file and exit without closing it: the host must still write it back */
    CHECK(argc >= 4, "usage: noclose PATH TEXT");
    int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0, "open");
    write_all(fd, argv[3], strlen(argv[3]));
    _Exit(atoi(argc >= 5 ? argv[4] : "0"));
}

/* open each path with MODE (letters: r read, w write, c O_CREAT, x O_EXCL, t O_TRUNC, d O_DIRECTORY, a O_APPEND)
 * and report the errno the guest sees */
static int cmd_openmode(int argc, char **argv)
{
    CHECK(argc >= 3, "usage: openmode MODE PATH...");
    const char *m = argv[2];
    int rd = strchr(m, 'r') != NULL, wr = strchr(m, 'w') != NULL;
    int flags = rd && wr ? O_RDWR : wr ? O_WRONLY : O_RDONLY;
    if (strchr(m, 'c')) flags |= O_CREAT;
    if (strchr(m, 'x')) flags |= O_EXCL;
    if (strchr(m, 't')) flags |= O_TRUNC;
    if (strchr(m, 'd')) flags |= O_DIRECTORY;
    if (strchr(m, 'a')) flags |= O_APPEND;
    for (int i = 3; i < argc; i++) {
        errno = 0;
        int fd = open(argv[i], flags, 0644);
        printf("%s %s\n", argv[i], fd >= 0 ? "OK" : errname(errno));
        if (fd >= 0)
            close(fd);
    }
    return 0;
}

static int cmd_mv(int argc, char **argv)
{
    CHECK(argc >= 4, "usage: mv OLD NEW");
    printf("mv %s\n", rename(argv[2], argv[3]) == 0 ? "OK" : errname(errno));
    return 0;
}

/* sleep MS milliseconds, relative then absolute; report whether the monotonic clock moved at least that far */
static int cmd_sleep(int argc, char **argv)
{
    CHECK(argc >= 3, "usage: sleep MS");
    int64_t ns = (int64_t)atoi(argv[2]) * 1000000;
    struct timespec a, b, req = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    CHECK(clock_gettime(CLOCK_MONOTONIC, &a) == 0, "monotonic");
    CHECK(nanosleep(&req, NULL) == 0, "nanosleep");
    CHECK(clock_gettime(CLOCK_MONOTONIC, &b) == 0, "monotonic");
    int64_t rel = (int64_t)(b.tv_sec - a.tv_sec) * 1000000000 + (b.tv_nsec - a.tv_nsec);
    struct timespec until = b;
    until.tv_nsec += req.tv_nsec;
    until.tv_sec += req.tv_sec + until.tv_nsec / 1000000000;
    until.tv_nsec %= 1000000000;
    CHECK(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == 0, "clock_nanosleep abstime");
    CHECK(clock_gettime(CLOCK_MONOTONIC, &a) == 0, "monotonic");
    int64_t abs_late = (int64_t)(a.tv_sec - until.tv_sec) * 1000000000 + (a.tv_nsec - until.tv_nsec);
    printf("relative %s\nabsolute %s\n", rel >= ns ? "ok" : "short", abs_late >= 0 ? "ok" : "early");
    return 0;
}

/* fill the fd table, then try to create PATH: the failed open must not create it */
static int cmd_emfile(int argc, char **argv)
{
    CHECK(argc >= 3, "usage: emfile PATH");
    int n = 0;
    while (open("/dev/null", O_RDONLY) >= 0)
        n++;
    printf("full %s\n", errname(errno));
    int fd = open(argv[2], O_WRONLY | O_CREAT, 0644);
    printf("create %s\n", fd >= 0 ? "OK" : errname(errno));
    return n > 0 ? 0 : 1;
}

/* writev with zero-length and many buffers, then readv across EOF into several buffers */
static int cmd_iov(int argc, char **argv)
{
    CHECK(argc >= 3, "usage: iov PATH");
    int fd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0, "open");
    struct iovec w[6] = {{"", 0}, {"ab", 2}, {"", 0}, {"cde", 3}, {"f", 1}, {"", 0}};
    CHECK(writev(fd, w, 6) == 6, "writev");
    CHECK(writev(fd, w, 0) == 0, "writev of nothing");
    CHECK(lseek(fd, 1, SEEK_SET) == 1, "seek");
    char b1[2], b2[1], b3[10] = {0}, b4[4] = "zzz";
    struct iovec r[5] = {{b1, 2}, {b2, 0}, {b2, 1}, {b3, 10}, {b4, 4}};
    CHECK(readv(fd, r, 5) == 5, "readv stops at EOF");
    CHECK(memcmp(b1, "bc", 2) == 0 && b2[0] == 'd' && memcmp(b3, "ef", 2) == 0, "readv content");
    CHECK(strcmp(b4, "zzz") == 0, "buffers after EOF untouched");
    CHECK(readv(fd, r, 5) == 0, "readv at EOF");
    CHECK(lseek(fd, 0, SEEK_CUR) == 6, "position after readv");
    close(fd);
    printf("ok\n");
    return 0;
}

/* Filesystem steps, each reported with the errno it got: "mkdir P", "rmdir P", "write P TEXT", "cat P",
 * "unlink P", "mv A B", "stat P" (type and size), "ls P" (names, directories with a trailing slash), "exit N". */
static int cmd_fsops(int argc, char **argv)
{
    for (int i = 2; i < argc; i++) {
        const char *op = argv[i];
        const char *p = i + 1 < argc ? argv[++i] : "";
        errno = 0;
        if (!strcmp(op, "mkdir")) {
            printf("mkdir %s %s\n", p, mkdir(p, 0755) == 0 ? "OK" : errname(errno));
        } else if (!strcmp(op, "rmdir")) {
            printf("rmdir %s %s\n", p, rmdir(p) == 0 ? "OK" : errname(errno));
        } else if (!strcmp(op, "unlink")) {
            printf("unlink %s %s\n", p, unlink(p) == 0 ? "OK" : errname(errno));
        } else if (!strcmp(op, "write") && i + 1 < argc) {
            const char *text = argv[++i];
            int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            int ok = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text);
            int e = errno;
            if (fd >= 0)
                close(fd);
            printf("write %s %s\n", p, ok ? "OK" : errname(e));
        } else if (!strcmp(op, "cat")) {
            char buf[256];
            int fd = open(p, O_RDONLY);
            if (fd < 0) {
                printf("cat %s %s\n", p, errname(errno));
                continue;
            }
            size_t n = read_all(fd, buf, sizeof buf - 1);
            close(fd);
            buf[n] = 0;
            printf("cat %s %s\n", p, buf);
        } else if (!strcmp(op, "mv") && i + 1 < argc) {
            const char *to = argv[++i];
            printf("mv %s %s %s\n", p, to, rename(p, to) == 0 ? "OK" : errname(errno));
        } else if (!strcmp(op, "stat")) {
            struct stat st;
            if (stat(p, &st) != 0)
                printf("stat %s %s\n", p, errname(errno));
            else
                printf("stat %s %s %lld\n", p, S_ISDIR(st.st_mode) ? "dir" : S_ISREG(st.st_mode) ? "file" : "other",
                       S_ISREG(st.st_mode) ? (long long)st.st_size : 0LL);
        } else if (!strcmp(op, "ls")) {
            DIR *d = opendir(p);
            if (!d) {
                printf("ls %s %s\n", p, errname(errno));
                continue;
            }
            printf("ls %s", p);
            struct dirent *e;
            while ((e = readdir(d)) != NULL)
                if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                    printf(" %s%s", e->d_name, e->d_type == DT_DIR ? "/" : "");
            closedir(d);
            printf("\n");
        } else if (!strcmp(op, "exit")) {
            fflush(stdout);
            _Exit(atoi(p));
        } else {
            printf("unknown step %s\n", op);
            return 64;
        }
    }
    return 0;
}

/*
 * Engine mode: argv[1] is a JSON job (as afmpeg's Runtime.call sends it). The "op" picks a canned answer, so
 * the Python side's result parsing and error mapping can be tested without FFmpeg.
 */
static int engine_mode(const char *job)
{
#define OP(name) (strstr(job, "\"op\":\"" name "\"") != NULL)
    if (OP("version")) {
        printf("{\"vocab_version\":9,\"ffmpeg_version\":\"test-guest\",\"engine_version\":\"0.0-test\",\"new_field\":1}\n");
        return 0;
    }
    if (OP("probe")) {
        int fd = open("input.bin", O_RDONLY); /* like the engine, look at the input through WASI */
        if (fd < 0) {
            printf("{\"inputs\":[{\"path\":\"input.bin\",\"error\":\"No such file or directory\"}]}\n");
            return 0;
        }
        close(fd);
        printf("{\"inputs\":[{\"path\":\"input.bin\",\"format\":\"mov,mp4,m4a,3gp,3g2,mj2\","
               "\"duration_sec\":5.0,\"start_sec\":0,\"bit_rate\":1234,\"tags\":{\"major_brand\":\"isom\"},"
               "\"chapters\":[{\"start_sec\":0,\"end_sec\":2.5,\"tags\":{\"title\":\"One\"}}],"
               "\"streams\":[{\"index\":0,\"type\":\"video\",\"codec\":\"h264\",\"width\":640,\"height\":360,"
               "\"frame_rate\":\"30/1\",\"disposition\":[\"default\"],\"future_field\":\"x\"},"
               "{\"index\":1,\"type\":\"audio\",\"codec\":\"aac\",\"sample_rate\":48000,\"channels\":2,"
               "\"language\":\"eng\"}]}]}\n");
        return 0;
    }
    if (OP("process")) {
        if (strstr(job, "\"progress\":true")) { /* three records, the last one final, like the engine */
            FILE *pf = fopen("/dev/afmpeg-progress", "w");
            if (!pf)
                return 1;
            for (int i = 1; i <= 3; i++)
                fprintf(pf, "{\"frame\":%d,\"out_time_us\":%d,\"total_size\":%d,\"duration_us\":3000000%s}\n",
                        i * 30, i * 1000000, i * 100, i == 3 ? ",\"final\":true" : "");
            fclose(pf);
        }
        put_file("out.txt", job); /* outputs land on the caller's filesystem */
        printf("{\"outputs\":[{\"path\":\"out.txt\",\"streams\":[{\"type\":\"video\",\"codec\":\"h264\"}]}],"
               "\"analysis\":[{\"t\":1.5,\"key\":\"lavfi.silence_start\",\"value\":\"1.5\"}]}\n");
        return 0;
    }
    if (OP("fail1")) {
        fprintf(stderr, "[libav] something broke\n");
        printf("{\"error\":\"processing went wrong\",\"input\":0}\n");
        return 1;
    }
    if (OP("fail2")) {
        printf("{\"error\":\"malformed spec: outputs missing\"}\n");
        return 2;
    }
    if (OP("fail3")) {
        printf("{\"error\":\"vocabulary 99 is newer than 9\"}\n");
        return 3;
    }
    if (OP("silent")) {
        fprintf(stderr, "first log line\nthe last log line\n");
        return 1;
    }
    if (OP("nojson"))
        return 0;
    if (OP("crash"))
        __builtin_trap();
    printf("{\"error\":\"unknown op\"}\n");
    return 2;
#undef OP
}

int main(int argc, char **argv)
{
    if (argc >= 2 && argv[1][0] == '{')
        return engine_mode(argv[1]);
    if (argc < 2) {
        printf("usage: guest <command> ...\n");
        return 64;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "echo")) {
        for (int i = 2; i < argc; i++)
            printf("%s\n", argv[i]);
        return 0;
    }
    if (!strcmp(cmd, "exit")) { /* explicit exit(): proc_exit even for 0 */
        printf("exiting %s\n", argv[2]);
        exit(atoi(argv[2]));
    }
    if (!strcmp(cmd, "ret")) /* return from main: _start calls proc_exit only when nonzero */
        return atoi(argv[2]);
    if (!strcmp(cmd, "stderr")) {
        long n = atol(argv[2]);
        for (long i = 0; i < n; i++)
            fputc('a' + (int)(i % 26), stderr);
        fputs("END\n", stderr);
        return 0;
    }
    if (!strcmp(cmd, "cat")) return cmd_cat(argc, argv);
    if (!strcmp(cmd, "write")) return cmd_write(argc, argv);
    if (!strcmp(cmd, "seekwrite")) return cmd_seekwrite(argc, argv);
    if (!strcmp(cmd, "append")) return cmd_append(argc, argv);
    if (!strcmp(cmd, "truncate")) return cmd_truncate(argc, argv);
    if (!strcmp(cmd, "excl")) return cmd_excl(argc, argv);
    if (!strcmp(cmd, "open")) return cmd_open_errno(argc, argv);
    if (!strcmp(cmd, "eof")) return cmd_eof(argc, argv);
    if (!strcmp(cmd, "stat")) return cmd_stat(argc, argv);
    if (!strcmp(cmd, "readdir")) return cmd_readdir(argc, argv);
    if (!strcmp(cmd, "dirops")) return cmd_dirops(argc, argv);
    if (!strcmp(cmd, "clock")) return cmd_clock();
    if (!strcmp(cmd, "random")) return cmd_random();
    if (!strcmp(cmd, "devices")) return cmd_devices();
    if (!strcmp(cmd, "tmp")) return cmd_tmp(argc, argv);
    if (!strcmp(cmd, "malloc")) return cmd_malloc(argc, argv);
    if (!strcmp(cmd, "busy")) return cmd_busy();
    if (!strcmp(cmd, "trap")) __builtin_trap();
    if (!strcmp(cmd, "stackoverflow")) return recurse(0);
    if (!strcmp(cmd, "bigio")) return cmd_bigio(argc, argv);
    if (!strcmp(cmd, "readwhilewrite")) return cmd_readwhilewrite(argc, argv);
    if (!strcmp(cmd, "env")) return cmd_env();
    if (!strcmp(cmd, "noclose")) return cmd_noclose(argc, argv);
    if (!strcmp(cmd, "openmode")) return cmd_openmode(argc, argv);
    if (!strcmp(cmd, "mv")) return cmd_mv(argc, argv);
    if (!strcmp(cmd, "sleep")) return cmd_sleep(argc, argv);
    if (!strcmp(cmd, "emfile")) return cmd_emfile(argc, argv);
    if (!strcmp(cmd, "iov")) return cmd_iov(argc, argv);
    if (!strcmp(cmd, "fsops")) return cmd_fsops(argc, argv);
    if (!strcmp(cmd, "json")) { /* behave like the engine: one JSON line, exit code argv[2] */
        int code = argc >= 3 ? atoi(argv[2]) : 0;
        if (argc >= 4)
            printf("%s\n", argv[3]);
        return code;
    }
    printf("unknown command %s\n", cmd);
    return 64;
}
