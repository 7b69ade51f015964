/* libc functions FFmpeg references that WASI preview1 does not provide. */
#include <errno.h>

int dup(int fd);

int dup(int fd)
{
    (void)fd;
    errno = ENOSYS;
    return -1;
}
