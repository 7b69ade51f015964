/* Output windows: "duration" counts from the output's start; "end" is an output
 * timestamp (with copy_ts, the input's own clock). Both become a point on the
 * job's timeline where the output's streams stop. */
#include <stdio.h>

#include "errors.h"
#include "process.h"

int64_t window_shift(const Job *job, const OutputStream *ost)
{
    if (!ost->of->spec->copy_ts || ost->shift_file < 0)
        return 0;
    return job->inputs[ost->shift_file].ts_offset;
}

int64_t window_end(const Job *job, const OutputStream *ost)
{
    const spec_output *so = ost->of->spec;
    if (so->duration_us >= 0)
        return so->duration_us;
    if (so->end_us >= 0)
        return ts_sub(so->end_us, window_shift(job, ost));
    return INT64_MAX;
}

/* An output without a window must not be fed by a graph output that never
 * ends: the job would run until the host stops it. */
int outputs_check_windows(Job *job)
{
    for (int i = 0; i < job->nb_gout; i++) {
        const GraphOutput *g = &job->gout[i];
        const spec_output *so = g->ost->of->spec;
        char why[128], field[32];
        if (so->duration_us >= 0 || so->end_us >= 0 || g->ost->max_frames >= 0 ||
            !graph_output_endless(job, g, why, sizeof(why)))
            continue;
        snprintf(field, sizeof(field), "outputs[%d]", g->ost->of->index);
        return fail(EXIT_MALFORMED_SPEC, field,
                    "%s: filter output [%s] never ends (%s), so the output would not either; "
                    "set %s.duration, %s.end or %s.max_frames", field, g->label[0] ? g->label : "unlabelled", why,
                    field, field, field);
    }
    return 0;
}
