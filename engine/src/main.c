#include <stdio.h>
#include <libavutil/avutil.h>
int main(int argc, char **argv)
{
    (void)argc; (void)argv;
    printf("{\"vocab_version\":9,\"ffmpeg_version\":\"%s\"}\n", av_version_info());
    return 0;
}
