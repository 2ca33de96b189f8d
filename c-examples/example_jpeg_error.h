/*
 * example_jpeg_error.h: the libjpeg error manager of the examples, as in
 * libjpeg's example.c: error_exit prints the message and longjmps back to
 * the caller's setjmp. jsec failures reach error_exit only after the jsec
 * call has returned (include/jsec_libjpeg.h), so no longjmp ever crosses the
 * Rust library.
 */
#ifndef JSEC_EXAMPLE_JPEG_ERROR_H
#define JSEC_EXAMPLE_JPEG_ERROR_H

#include <setjmp.h>
#include <stdio.h>

#include <jpeglib.h>

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
} example_error_mgr;

/* Print the message (for a jsec failure "jsec: JSEC_ERR_...: ..."), then
 * return to the setjmp in `cinfo->err`. */
static inline void example_error_exit(j_common_ptr cinfo) {
    example_error_mgr *err = (example_error_mgr *)cinfo->err;
    (*cinfo->err->output_message)(cinfo);
    longjmp(err->jump, 1);
}

#endif
