/* Inputs joined by the concat demuxer ("inputs[].concat"). The list file is
 * written to the private /tmp; the demuxer runs in safe mode, so the names in
 * it are relative paths under the job root. */
#ifndef AFMPEG_CONCAT_H
#define AFMPEG_CONCAT_H

#include <stddef.h>
#include <libavformat/avformat.h>

#include "spec.h"

/* NULL if `name` can be listed, else why not. */
const char *concat_name_problem(const char *name);

/* Write the list of inputs[index] and open it for reading. `url` receives the
 * name the demuxer resolves entries against (the job root). */
int concat_open_list(const spec_input *in, int index, AVIOContext **pb, char *url, size_t url_size);

#endif
