/*
 * remove_partial.h: the examples' "no partial output" rule, safely.
 *
 * An example that fails after creating its output file removes that file, so
 * a half-written or unchecked result is never left behind. Only a regular
 * file is removed: when the output is a device, a pipe or a terminal
 * (`/dev/full`, `/dev/stdout` ...) there is nothing to clean up, and
 * removing the path would delete the device node.
 */
#ifndef JSEC_EXAMPLE_REMOVE_PARTIAL_H
#define JSEC_EXAMPLE_REMOVE_PARTIAL_H

#include <stdio.h>
#include <sys/stat.h>

static void remove_partial(const char *path) {
    struct stat st;
    if (path != NULL && stat(path, &st) == 0 && S_ISREG(st.st_mode)) remove(path);
}

#endif
