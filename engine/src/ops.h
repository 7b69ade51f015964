/* The ops. Each writes its result object into `w` and returns 0, or records an
 * error (errors.h) and returns -1. */
#ifndef AFMPEG_OPS_H
#define AFMPEG_OPS_H

#include "jsonw.h"
#include "spec.h"

int op_version(const job_spec *spec, jw *w);
int op_probe(const job_spec *spec, jw *w);
int op_process(const job_spec *spec, jw *w);
int op_frames(const job_spec *spec, jw *w);
int op_capabilities(const job_spec *spec, jw *w);

#endif
