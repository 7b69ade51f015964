#include <stdio.h>
#include <string.h>

#include "concat.h"
#include "confine.h"
#include "errors.h"

/* The concat demuxer's safe mode (always on) takes a name only if every part
 * starts with a letter, digit, '_' or '-' and holds only those and '.'; so it
 * is relative, has no "..", and needs no quoting in the list. Checked here
 * too, so a refused name is a spec error that says why. */
static int safe_part_char(char c, int first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           (!first && c == '.');
}

const char *concat_name_problem(const char *name)
{
    if (!*name)
        return "is empty";
    if (strpbrk(name, "\n\r"))
        return "contains a line break, which the concat list cannot hold";
    if (strpbrk(name, "'\"\\"))
        return "contains a quote or backslash, which the concat demuxer's safe mode refuses";
    for (const char *p = name; *p; p++) {
        int first = p == name || p[-1] == '/';
        if (*p == '/' && !first)
            continue;
        if (!safe_part_char(*p, first))
            return "is not a name the concat demuxer's safe mode accepts: a relative path whose parts start "
                   "with a letter, digit, '_' or '-' and hold only those and '.'";
    }
    if (name[strlen(name) - 1] == '/')
        return "names a directory";
    if (!path_in_root(name))
        return "is outside the job's filesystem";
    return NULL;
}

int concat_open_list(const spec_input *in, int index, AVIOContext **pb, char *url, size_t url_size)
{
    char list[64], field[48];
    AVIOContext *w = NULL;
    int ret;

    snprintf(list, sizeof(list), "file:/tmp/afmpeg-concat-%d.ffconcat", index);
    snprintf(field, sizeof(field), "inputs[%d].concat", index);
    errlog_reset();
    if ((ret = avio_open2(&w, list, AVIO_FLAG_WRITE, NULL, NULL)) < 0)
        return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "writing the concat list");
    avio_printf(w, "ffconcat version 1.0\n");
    for (int i = 0; i < in->nb_concat; i++)
        avio_printf(w, "file '%s'\n", in->concat[i]); /* safe names need no escaping */
    avio_flush(w);
    ret = w->error;
    if (avio_closep(&w) < 0 || ret < 0)
        return fail_av(EXIT_FAILURE_PROCESSING, ret < 0 ? ret : AVERROR(EIO), field, "writing the concat list");
    errlog_reset();
    if ((ret = avio_open2(pb, list, AVIO_FLAG_READ, NULL, NULL)) < 0)
        return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "reading the concat list");
    /* The demuxer resolves entries against the list's URL: name one in the root. */
    snprintf(url, url_size, "/afmpeg-concat-%d.ffconcat", index);
    return 0;
}
