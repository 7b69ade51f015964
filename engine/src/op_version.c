#include <libavutil/avutil.h>

#include "ops.h"

int op_version(const job_spec *spec, jw *w)
{
    (void)spec;
    jw_obj_begin(w);
    jw_kint(w, "vocab_version", VOCAB_VERSION);
    jw_kstr(w, "ffmpeg_version", av_version_info());
    jw_kstr(w, "engine_version", ENGINE_VERSION);
    jw_obj_end(w);
    return 0;
}
