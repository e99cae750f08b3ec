/* main.c - flags -> config -> serve. (Skeleton: the server lands next.) */
#include <stdio.h>

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "podterm: not yet serving\n");
    return 1;
}
