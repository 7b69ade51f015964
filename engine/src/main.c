/* afmpeg engine entry point: one JSON job spec in argv[1], one JSON line out on
 * stdout, and an exit code (errors.h) the host can act on. */
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "jsonw.h"
#include "ops.h"
#include "spec.h"

static int print_error(void)
{
    AVBPrint bp;
    av_bprint_init(&bp, 0, AV_BPRINT_SIZE_UNLIMITED);
    av_bprintf(&bp, "{\"error\":");
    jw_escape(&bp, err_message());
    if (err_field()) {
        av_bprintf(&bp, ",\"field\":");
        jw_escape(&bp, err_field());
    }
    av_bprintf(&bp, ",\"kind\":");
    jw_escape(&bp, err_kind_name());
    av_bprintf(&bp, "}");
    printf("%s\n", av_bprint_is_complete(&bp) ? bp.str : "{\"error\":\"out of memory\"}");
    av_bprint_finalize(&bp, NULL);
    fflush(stdout);
    return err_code();
}

int main(int argc, char **argv)
{
    job_spec spec;
    jw w;
    int ret = -1;

    errlog_install();
    if (argc != 2) {
        fail(EXIT_MALFORMED_SPEC, NULL, "usage: %s '<job spec JSON>'", argc > 0 ? argv[0] : "afmpeg-engine");
        return print_error();
    }
    jw_init(&w);
    if (spec_parse(argv[1], &spec) == 0) {
        switch (spec.op) {
        case OP_VERSION: ret = op_version(&spec, &w); break;
        case OP_PROBE:   ret = op_probe(&spec, &w); break;
        case OP_PROCESS: ret = op_process(&spec, &w); break;
        case OP_FRAMES:  ret = op_frames(&spec, &w); break;
        case OP_CAPABILITIES: ret = op_capabilities(&spec, &w); break;
        }
    }
    spec_free(&spec);
    if (ret == 0 && !jw_result(&w))
        ret = fail_kind(EXIT_FAILURE_PROCESSING, ERR_NO_MEMORY, NULL, "out of memory while writing the result");
    if (ret < 0 || err_is_set()) {
        jw_free(&w);
        if (!err_is_set())
            fail(EXIT_FAILURE_PROCESSING, NULL, "internal error");
        return print_error();
    }
    printf("%s\n", jw_result(&w));
    fflush(stdout);
    jw_free(&w);
    return EXIT_OK;
}
