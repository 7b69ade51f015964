#include <stdint.h>

#include "utf8.h"

size_t utf8_seq_len(const unsigned char *p, size_t avail)
{
    size_t n;
    uint32_t cp, min;
    if (!avail)
        return 0;
    if (p[0] < 0x80) return 1;
    if ((p[0] & 0xE0) == 0xC0) { n = 2; cp = p[0] & 0x1F; min = 0x80; }
    else if ((p[0] & 0xF0) == 0xE0) { n = 3; cp = p[0] & 0x0F; min = 0x800; }
    else if ((p[0] & 0xF8) == 0xF0) { n = 4; cp = p[0] & 0x07; min = 0x10000; }
    else return 0;
    if (avail < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}
