#ifndef AFMPEG_UTF8_H
#define AFMPEG_UTF8_H

#include <stddef.h>

/* Length (1..4) of the valid UTF-8 sequence at p, which has `avail` bytes, or 0 if it is
 * invalid: overlongs, surrogates and code points above U+10FFFF are refused. */
size_t utf8_seq_len(const unsigned char *p, size_t avail);

#endif
