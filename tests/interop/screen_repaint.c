/* screen_repaint.c - podterm-screen: stdin through the screen model
 * (src/screen/), its repaint to stdout. For test_screen_tmux.py, which
 * compares the repaint painted by a real terminal (tmux) with the original.
 *
 *   podterm-screen WIDTH HEIGHT [CHUNK]   (CHUNK: bytes per screen_feed, default 4096) */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "screen/screen.h"

#define TOOL_CHUNK_MAX 65536

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: podterm-screen WIDTH HEIGHT [CHUNK]\n");
        return 2;
    }
    size_t chunk = argc > 3 ? strtoul(argv[3], NULL, 10) : 4096;
    if (chunk < 1 || chunk > TOOL_CHUNK_MAX)
        chunk = 4096;
    struct screen *s = screen_new((unsigned)atoi(argv[1]), (unsigned)atoi(argv[2]));
    static uint8_t in[TOOL_CHUNK_MAX];
    ssize_t n;
    while ((n = read(0, in, chunk)) > 0)
        if (screen_feed(s, in, (size_t)n) < 0)
            return 1;
    size_t cap = screen_repaint_bound(s);
    uint8_t *out = malloc(cap);
    long len = out ? screen_repaint(s, out, cap) : -1;
    if (len < 0 || (size_t)len > cap || fwrite(out, 1, (size_t)len, stdout) != (size_t)len)
        return 1;
    free(out);
    screen_free(s);
    return 0;
}
