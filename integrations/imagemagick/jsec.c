/*
 * jsec.c: the ImageMagick 6 coder module JSEC (prefix `jsec:`).
 *
 * Read:  convert -define jsec:key=KEYFILE jsec:secret.jpg out.png
 *        the file is decrypted with FSPE (file-size-preserving encryption)
 *        in memory and decoded by ImageMagick's own JPEG coder.
 * Write: convert in.png -define jsec:key=KEYFILE jsec:out.jpg
 *        the image is encoded by ImageMagick's own JPEG coder (baseline,
 *        honouring -quality), encrypted in memory (same size) and written.
 * Verify (read): -define jsec:verify=PUBKEY checks a croppable signature
 *        (jsec sign) and fails the read when it does not verify.
 *
 * The other defines (jsec:rule, jsec:components, jsec:bands, jsec:exif,
 * jsec:levels, jsec:key-level, jsec:region, jsec:outside, jsec:nonce) map to the FSPE
 * options of include/jsec.h; the decryptor must be given the options the
 * encryptor was given. docs/imagemagick.md is the user guide and says why
 * this is a coder module rather than a delegate.
 *
 * ImageMagick finds the module through jsec.la (a libtool file next to
 * jsec.so) in MAGICK_CODER_MODULE_PATH, opens it with libltdl and calls
 * RegisterJSECImage(). Every jsec error becomes an ImageMagick exception
 * carrying jsec_last_error(); every path frees what it acquired, and key
 * bytes and decrypted JPEG bytes are wiped before they are released.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <magick/MagickCore.h>

#include <jsec.h>

/*
 * MagickCore's blob primitives for coders are declared in
 * magick/blob-private.h, which the -dev packages do not install; they are
 * exported by libMagickCore (MagickExport) and every IM6 coder uses them.
 * These declarations match ImageMagick 6.
 */
typedef enum {
    JsecUndefinedBlobMode,
    JsecReadBlobMode,
    JsecReadBinaryBlobMode,
    JsecWriteBlobMode,
    JsecWriteBinaryBlobMode,
    JsecAppendBlobMode,
    JsecAppendBinaryBlobMode
} JsecBlobMode;

extern MagickExport MagickBooleanType OpenBlob(const ImageInfo *, Image *, const JsecBlobMode,
                                               ExceptionInfo *);
extern MagickExport MagickBooleanType CloseBlob(Image *);
extern MagickExport ssize_t ReadBlob(Image *, const size_t, unsigned char *);
extern MagickExport ssize_t WriteBlob(Image *, const size_t, const unsigned char *);

ModuleExport size_t RegisterJSECImage(void);
ModuleExport void UnregisterJSECImage(void);

/* Largest key file read (a hex key is at most 64 digits plus whitespace). */
#define JSEC_IM_MAX_KEY_FILE 4096
/* Largest public key / certificate file read. */
#define JSEC_IM_MAX_PEM_FILE (1u << 20)
/* Tags of the BLS key files `jsec keygen --type bls` writes. */
#define JSEC_IM_BLS_PUBLIC_TAG "jsec-bls12381-public-key"
#define JSEC_IM_BLS_SECRET_TAG "jsec-bls12381-secret-key"

/* Throw with the caller's file, function and line. */
#define JSEC_THROW(exception, severity, tag, ...) \
    (void)ThrowMagickException((exception), GetMagickModule(), (severity), (tag), __VA_ARGS__)

/* The last jsec error, never empty. */
static const char *last_error(void) {
    const char *m = jsec_last_error();
    return (m != NULL && *m != '\0') ? m : "unknown jsec error";
}

/* Overwrite secret bytes in a way the compiler keeps. */
static void wipe(void *p, size_t n) {
    volatile unsigned char *v = (volatile unsigned char *)p;
    while (n-- > 0) *v++ = 0;
}

/* Release a buffer from AcquireQuantumMemory after wiping `n` bytes. */
static void *wipe_and_release(void *p, size_t n) {
    if (p != NULL) {
        wipe(p, n);
        p = RelinquishMagickMemory(p);
    }
    return NULL;
}

/* --- settings (-define jsec:...) -------------------------------------------------- */

typedef struct jsec_im_settings {
    const char *key_path;    /* jsec:key */
    const char *verify_path; /* jsec:verify */
    uint32_t key_level;      /* jsec:key-level (0, 1, 2) */
    jsec_fspe_options *options;
} jsec_im_settings;

static void settings_free(jsec_im_settings *s) {
    jsec_fspe_options_free(s->options);
    s->options = NULL;
}

static bool parse_bool(const char *v, bool *out) {
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (LocaleCompare(v, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (LocaleCompare(v, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

/* A decimal uint32 starting at *p; advances *p. */
static bool parse_u32(const char **p, uint32_t *out) {
    const char *s = *p;
    if (!isdigit((unsigned char)*s)) return false;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || v > UINT32_MAX) return false;
    *out = (uint32_t)v;
    *p = end;
    return true;
}

static int hex_value(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Exactly 2*n hex digits (no whitespace) from `hex` into `out`. */
static bool parse_hex(const char *hex, size_t hex_len, uint8_t *out, size_t n) {
    if (hex_len != 2 * n) return false;
    for (size_t i = 0; i < n; i++) {
        int hi = hex_value((unsigned char)hex[2 * i]);
        int lo = hex_value((unsigned char)hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

/* A define with a value the coder does not take: fail the settings. */
#define BAD_DEFINE(name, value, expected)                                                       \
    do {                                                                                        \
        JSEC_THROW(exception, OptionError, "JSECInvalidDefine",                                 \
                   "`-define %s=%s': expected %s (%s)", (name), (value), (expected), filename); \
        return false;                                                                           \
    } while (0)

/* A define jsec refused (jsec_fspe_options_set_*). */
#define JSEC_OPTION(name, value, call)                                                          \
    do {                                                                                        \
        if ((call) != JSEC_OK) {                                                                \
            JSEC_THROW(exception, OptionError, "JSECInvalidDefine", "`-define %s=%s': %s (%s)", \
                       (name), (value), last_error(), filename);                                \
            return false;                                                                       \
        }                                                                                       \
    } while (0)

/*
 * Read every jsec:* define of `info` into `s` (s->options is allocated on
 * success and on failure alike; the caller frees it with settings_free).
 */
static bool settings_parse(const ImageInfo *info, jsec_im_settings *s, const char *filename,
                           ExceptionInfo *exception) {
    memset(s, 0, sizeof *s);
    if (jsec_fspe_options_new(&s->options) != JSEC_OK) {
        JSEC_THROW(exception, ResourceLimitError, "MemoryAllocationFailed", "`%s': %s", filename,
                   last_error());
        return false;
    }
    const char *v;

    v = GetImageOption(info, "jsec:key");
    if (v != NULL && *v != '\0') s->key_path = v;
    v = GetImageOption(info, "jsec:verify");
    if (v != NULL && *v != '\0') s->verify_path = v;

    if ((v = GetImageOption(info, "jsec:rule")) != NULL) {
        uint32_t rule;
        if (LocaleCompare(v, "full") == 0)
            rule = JSEC_FSPE_RULE_FULL;
        else if (LocaleCompare(v, "paper") == 0)
            rule = JSEC_FSPE_RULE_PAPER;
        else
            BAD_DEFINE("jsec:rule", v, "full or paper");
        JSEC_OPTION("jsec:rule", v, jsec_fspe_options_set_rule(s->options, rule));
    }

    if ((v = GetImageOption(info, "jsec:components")) != NULL) {
        uint32_t c;
        if (LocaleCompare(v, "all") == 0)
            c = JSEC_FSPE_COMPONENTS_ALL;
        else if (LocaleCompare(v, "luma") == 0)
            c = JSEC_FSPE_COMPONENTS_LUMA;
        else if (LocaleCompare(v, "chroma") == 0)
            c = JSEC_FSPE_COMPONENTS_CHROMA;
        else
            BAD_DEFINE("jsec:components", v, "all, luma or chroma");
        JSEC_OPTION("jsec:components", v, jsec_fspe_options_set_components(s->options, c));
    }

    if ((v = GetImageOption(info, "jsec:bands")) != NULL) {
        uint32_t bands = 0;
        const char *p = v;
        while (*p != '\0') {
            size_t n = strcspn(p, ",");
            if (n == 2 && LocaleNCompare(p, "dc", 2) == 0)
                bands |= JSEC_FSPE_BAND_DC;
            else if (n == 6 && LocaleNCompare(p, "ac-low", 6) == 0)
                bands |= JSEC_FSPE_BAND_AC_LOW;
            else if (n == 7 && LocaleNCompare(p, "ac-high", 7) == 0)
                bands |= JSEC_FSPE_BAND_AC_HIGH;
            else
                BAD_DEFINE("jsec:bands", v, "a comma-separated list of dc, ac-low, ac-high");
            p += n;
            if (*p == ',') p++;
        }
        if (bands == 0)
            BAD_DEFINE("jsec:bands", v, "a comma-separated list of dc, ac-low, ac-high");
        JSEC_OPTION("jsec:bands", v, jsec_fspe_options_set_bands(s->options, bands));
    }

    if ((v = GetImageOption(info, "jsec:exif")) != NULL) {
        uint32_t classes = 0;
        const char *p = v;
        while (*p != '\0') {
            size_t n = strcspn(p, ",");
            if (n == 3 && LocaleNCompare(p, "gps", 3) == 0)
                classes |= JSEC_FSPE_METADATA_GPS;
            else if (n == 8 && LocaleNCompare(p, "identity", 8) == 0)
                classes |= JSEC_FSPE_METADATA_IDENTITY;
            else if (n == 5 && LocaleNCompare(p, "dates", 5) == 0)
                classes |= JSEC_FSPE_METADATA_DATES;
            else if (!(n == 4 && LocaleNCompare(p, "none", 4) == 0))
                BAD_DEFINE("jsec:exif", v, "a comma-separated list of gps, identity, dates");
            p += n;
            if (*p == ',') p++;
        }
        JSEC_OPTION("jsec:exif", v, jsec_fspe_options_set_metadata(s->options, classes));
    }

    if ((v = GetImageOption(info, "jsec:levels")) != NULL) {
        bool levels;
        if (!parse_bool(v, &levels)) BAD_DEFINE("jsec:levels", v, "true or false");
        JSEC_OPTION("jsec:levels", v, jsec_fspe_options_set_levels(s->options, levels));
    }

    if ((v = GetImageOption(info, "jsec:key-level")) != NULL) {
        const char *p = v;
        if (!parse_u32(&p, &s->key_level) || *p != '\0' || s->key_level > 2)
            BAD_DEFINE("jsec:key-level", v, "0, 1 or 2");
    }

    bool outside = false;
    const char *outside_v = GetImageOption(info, "jsec:outside");
    if (outside_v != NULL && !parse_bool(outside_v, &outside))
        BAD_DEFINE("jsec:outside", outside_v, "true or false");
    if ((v = GetImageOption(info, "jsec:region")) != NULL) {
        uint32_t r[4];
        const char *p = v;
        for (int i = 0; i < 4; i++) {
            if (!parse_u32(&p, &r[i]) || (i < 3 && *p++ != ','))
                BAD_DEFINE("jsec:region", v, "X,Y,W,H");
        }
        if (*p != '\0' || r[2] == 0 || r[3] == 0)
            BAD_DEFINE("jsec:region", v, "X,Y,W,H with W and H above 0");
        JSEC_OPTION("jsec:region", v,
                    jsec_fspe_options_set_region(s->options, r[0], r[1], r[2], r[3], outside));
    } else if (outside) {
        JSEC_THROW(exception, OptionError, "JSECInvalidDefine",
                   "`-define jsec:outside=%s': needs -define jsec:region=X,Y,W,H (%s)", outside_v,
                   filename);
        return false;
    }

    if ((v = GetImageOption(info, "jsec:nonce")) != NULL) {
        uint8_t nonce[JSEC_FSPE_NONCE_LEN];
        if (!parse_hex(v, strlen(v), nonce, sizeof nonce))
            BAD_DEFINE("jsec:nonce", v, "32 hex digits");
        JSEC_OPTION("jsec:nonce", v, jsec_fspe_options_set_nonce(s->options, nonce, sizeof nonce));
    }
    return true;
}

/* --- files ------------------------------------------------------------------------ */

/*
 * Read a small file whole into a NUL-terminated buffer from
 * AcquireQuantumMemory (`limit` bytes at most). `what` names the define.
 */
static unsigned char *read_small_file(const char *path, size_t limit, size_t *out_len,
                                      const char *what, const char *filename,
                                      ExceptionInfo *exception) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        JSEC_THROW(exception, FileOpenError, "UnableToOpenFile", "`%s=%s': %s (%s)", what, path,
                   strerror(errno), filename);
        return NULL;
    }
    /* No stdio buffer: the bytes (a secret key) go only where they are wiped. */
    (void)setvbuf(f, NULL, _IONBF, 0);
    unsigned char *buf = (unsigned char *)AcquireQuantumMemory(limit + 2, 1);
    if (buf == NULL) {
        (void)fclose(f);
        JSEC_THROW(exception, ResourceLimitError, "MemoryAllocationFailed", "`%s'", path);
        return NULL;
    }
    size_t n = fread(buf, 1, limit + 1, f);
    bool failed = ferror(f) != 0;
    (void)fclose(f);
    if (failed || n > limit) {
        JSEC_THROW(exception, FileOpenError, "UnableToReadFile", "`%s=%s': %s (%s)", what, path,
                   failed ? "read error" : "not a key file (too large)", filename);
        return (unsigned char *)wipe_and_release(buf, limit + 2);
    }
    buf[n] = '\0';
    *out_len = n;
    return buf;
}

/* The FSPE key from a hex key file (`jsec keygen`). */
static const jsec_key *load_key(const char *path, const char *filename, ExceptionInfo *exception) {
    size_t len = 0;
    unsigned char *text =
        read_small_file(path, JSEC_IM_MAX_KEY_FILE, &len, "jsec:key", filename, exception);
    if (text == NULL) return NULL;
    const jsec_key *key = NULL;
    if (memchr(text, '\0', len) != NULL ||
        jsec_key_new_from_hex((const char *)text, &key) != JSEC_OK) {
        const char *why = memchr(text, '\0', len) != NULL ? "bad key: not hex text" : last_error();
        JSEC_THROW(exception, OptionError, "JSECInvalidKey", "`jsec:key=%s': %s (%s)", path, why,
                   filename);
        key = NULL;
    }
    (void)wipe_and_release(text, JSEC_IM_MAX_KEY_FILE + 2);
    return key;
}

/*
 * A public key for jsec:verify: a `jsec-bls12381-public-key <hex>` file
 * (profile compact), or an ECDSA P-256 / RSA SubjectPublicKeyInfo or X.509
 * certificate in PEM or DER (profile paper), as `jsec verify -p` reads them.
 */
static const jsec_verify_key *load_verify_key(const char *path, const char *filename,
                                              ExceptionInfo *exception) {
    size_t len = 0;
    unsigned char *raw =
        read_small_file(path, JSEC_IM_MAX_PEM_FILE, &len, "jsec:verify", filename, exception);
    if (raw == NULL) return NULL;
    const jsec_verify_key *key = NULL;
    const char *p = (const char *)raw;
    const char *end = p + len;
    while (p < end && isspace((unsigned char)*p)) p++;
    size_t pub_tag = strlen(JSEC_IM_BLS_PUBLIC_TAG);
    size_t sec_tag = strlen(JSEC_IM_BLS_SECRET_TAG);
    if ((size_t)(end - p) >= sec_tag && memcmp(p, JSEC_IM_BLS_SECRET_TAG, sec_tag) == 0) {
        JSEC_THROW(exception, OptionError, "JSECInvalidKey",
                   "`jsec:verify=%s': this is a BLS secret key file; give the public key file "
                   "(jsec keygen --public-out) (%s)",
                   path, filename);
    } else if ((size_t)(end - p) >= pub_tag && memcmp(p, JSEC_IM_BLS_PUBLIC_TAG, pub_tag) == 0) {
        /* Two words: the tag and the hex of the 96-byte compressed point. */
        const char *h = p + pub_tag;
        const char *h_end;
        bool ok = h < end && isspace((unsigned char)*h);
        while (h < end && isspace((unsigned char)*h)) h++;
        h_end = h;
        while (h_end < end && !isspace((unsigned char)*h_end)) h_end++;
        const char *rest = h_end;
        while (rest < end && isspace((unsigned char)*rest)) rest++;
        uint8_t bytes[JSEC_VERIFY_KEY_LEN];
        ok = ok && rest == end && parse_hex(h, (size_t)(h_end - h), bytes, sizeof bytes);
        if (!ok) {
            JSEC_THROW(exception, OptionError, "JSECInvalidKey",
                       "`jsec:verify=%s': bad key: not a %s file with %u hex digits (%s)", path,
                       JSEC_IM_BLS_PUBLIC_TAG, (unsigned)(2 * JSEC_VERIFY_KEY_LEN), filename);
        } else if (jsec_verify_key_new_from_bytes(bytes, sizeof bytes, &key) != JSEC_OK) {
            JSEC_THROW(exception, OptionError, "JSECInvalidKey", "`jsec:verify=%s': %s (%s)", path,
                       last_error(), filename);
            key = NULL;
        }
    } else if (jsec_verify_key_new_from_spki(raw, len, &key) != JSEC_OK) {
        JSEC_THROW(exception, OptionError, "JSECInvalidKey",
                   "`jsec:verify=%s': not a public key: expected a jsec BLS public key file, or an "
                   "ECDSA P-256 / RSA public key or certificate in PEM or DER: %s (%s)",
                   path, last_error(), filename);
        key = NULL;
    }
    (void)RelinquishMagickMemory(raw);
    return key;
}

/* The whole content of an opened blob (a file, a pipe or memory). */
static unsigned char *read_whole_blob(Image *image, size_t *out_len, ExceptionInfo *exception) {
    MagickSizeType hint = GetBlobSize(image);
    size_t cap = (hint > 0 && hint < (MagickSizeType)(SIZE_MAX / 2)) ? (size_t)hint + 1 : 65536;
    size_t len = 0;
    unsigned char *buf = (unsigned char *)AcquireQuantumMemory(cap, 1);
    if (buf == NULL) goto oom;
    for (;;) {
        if (len == cap) {
            if (cap > SIZE_MAX / 2) goto oom;
            unsigned char *bigger = (unsigned char *)ResizeQuantumMemory(buf, cap * 2, 1);
            if (bigger == NULL) {
                buf = NULL; /* ResizeQuantumMemory released it */
                goto oom;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t n = ReadBlob(image, cap - len, buf + len);
        if (n < 0) {
            JSEC_THROW(exception, CorruptImageError, "UnableToReadImageData", "`%s'",
                       image->filename);
            buf = (unsigned char *)RelinquishMagickMemory(buf);
            return NULL;
        }
        if (n == 0) break;
        len += (size_t)n;
    }
    if (len == 0) {
        JSEC_THROW(exception, CorruptImageError, "InsufficientImageDataInFile", "`%s'",
                   image->filename);
        buf = (unsigned char *)RelinquishMagickMemory(buf);
        return NULL;
    }
    *out_len = len;
    return buf;
oom:
    if (buf != NULL) buf = (unsigned char *)RelinquishMagickMemory(buf);
    JSEC_THROW(exception, ResourceLimitError, "MemoryAllocationFailed", "`%s'", image->filename);
    return NULL;
}

/*
 * jsec's warnings about a file it processed (a region whose DC stays in
 * clear, an embedded image it could not process ...) as ImageMagick
 * warnings, as `jsec encrypt` / `jsec decrypt` print them. Frees `report`.
 */
static void forward_warnings(jsec_fspe_report *report, const char *filename,
                             ExceptionInfo *exception) {
    size_t count = 0;
    if (report == NULL || jsec_fspe_report_warning_count(report, &count) != JSEC_OK) count = 0;
    for (size_t i = 0; i < count; i++) {
        uint64_t offset = 0;
        size_t len = 0;
        if (jsec_fspe_report_warning(report, i, &offset, NULL, 0, &len) !=
            JSEC_ERR_BUFFER_TOO_SMALL)
            continue;
        char *text = (char *)AcquireQuantumMemory(len + 1, 1);
        if (text == NULL) break;
        if (jsec_fspe_report_warning(report, i, &offset, text, len + 1, &len) == JSEC_OK)
            JSEC_THROW(exception, CoderWarning, "JSECWarning", "`%s': %s (at byte offset %.20g)",
                       filename, text, (double)offset);
        text = (char *)RelinquishMagickMemory(text);
    }
    jsec_fspe_report_free(report);
}

static bool handshake(const char *filename, ExceptionInfo *exception) {
    if (jsec_init(JSEC_ABI_VERSION) == JSEC_OK) return true;
    JSEC_THROW(exception, ModuleError, "UnableToLoadModule",
               "`%s': the libjsec loaded (%s) cannot serve this module (built for %s): %s",
               filename, jsec_version(), JSEC_VERSION_STRING, last_error());
    return false;
}

/* --- read ------------------------------------------------------------------------- */

/* Record a valid signature on every image of the list as properties. */
static void set_signature_properties(Image *images, const jsec_sign_verification *r,
                                     const char *where) {
    char value[MaxTextExtent];
    for (Image *next = images; next != NULL; next = GetNextImageInList(next)) {
        (void)SetImageProperty(next, "jsec:signature", "valid");
        (void)SetImageProperty(next, "jsec:signature-checked", where);
        (void)SetImageProperty(next, "jsec:signature-profile",
                               r->profile == JSEC_SIGN_PROFILE_PAPER ? "paper" : "compact");
        (void)FormatLocaleString(value, MaxTextExtent, "%.20g", (double)r->cells);
        (void)SetImageProperty(next, "jsec:signature-cells", value);
        if (r->cropped) {
            (void)FormatLocaleString(value, MaxTextExtent, "%ux%u+%u+%u of %ux%u",
                                     (unsigned)r->crop_width, (unsigned)r->crop_height,
                                     (unsigned)r->crop_x, (unsigned)r->crop_y,
                                     (unsigned)r->original_width, (unsigned)r->original_height);
            (void)SetImageProperty(next, "jsec:signature-crop", value);
        }
        for (size_t i = 0; i < sizeof r->key_id; i++)
            (void)FormatLocaleString(value + 2 * i, 3, "%02x", (unsigned)r->key_id[i]);
        (void)SetImageProperty(next, "jsec:signature-key-id", value);
        if (r->has_certificate)
            (void)SetImageProperty(next, "jsec:signature-subject", r->certificate_subject);
    }
}

static Image *ReadJSECImage(const ImageInfo *image_info, ExceptionInfo *exception) {
    assert(image_info != (const ImageInfo *)NULL);
    assert(image_info->signature == MagickCoreSignature);
    assert(exception != (ExceptionInfo *)NULL);
    assert(exception->signature == MagickCoreSignature);

    char filename[MaxTextExtent];
    (void)CopyMagickString(filename, image_info->filename, MaxTextExtent);

    Image *image = NULL, *images = NULL;
    ImageInfo *read_info = NULL;
    unsigned char *data = NULL;
    size_t length = 0;
    jsec_im_settings s;
    const jsec_key *key = NULL;
    const jsec_fspe_cipher *cipher = NULL;
    const jsec_verify_key *vkey = NULL;
    jsec_sign_verification verification;
    const char *verified_where = NULL;
    char *stored_failure = NULL;

    memset(&verification, 0, sizeof verification);
    verification.struct_size = sizeof verification;
    memset(&s, 0, sizeof s);
    if (!handshake(filename, exception)) goto done;
    if (!settings_parse(image_info, &s, filename, exception)) goto done;

    /* The whole file: FSPE works on complete JPEG files. */
    image = AcquireImage(image_info);
    if (OpenBlob(image_info, image, JsecReadBinaryBlobMode, exception) == MagickFalse) goto done;
    data = read_whole_blob(image, &length, exception);
    (void)CloseBlob(image);
    if (data == NULL) goto done;

    /* Load every key before doing anything with them. */
    if (s.verify_path != NULL &&
        (vkey = load_verify_key(s.verify_path, filename, exception)) == NULL)
        goto done;
    if (s.key_path != NULL) {
        if ((key = load_key(s.key_path, filename, exception)) == NULL) goto done;
        if (jsec_fspe_cipher_new(key, s.options, s.key_level, &cipher) != JSEC_OK) {
            JSEC_THROW(exception, OptionError, "JSECInvalidDefine", "`%s': %s", filename,
                       last_error());
            goto done;
        }
    } else if (s.key_level != 0) {
        JSEC_THROW(exception, OptionError, "JSECInvalidDefine",
                   "`-define jsec:key-level=%u': needs -define jsec:key=FILE (%s)",
                   (unsigned)s.key_level, filename);
        goto done;
    }

    /* A signature over the file as stored (signed after encryption, or never encrypted). */
    if (vkey != NULL) {
        jsec_status st = jsec_sign_verify(vkey, NULL, data, length, &verification);
        if (st == JSEC_OK) {
            verified_where = "as stored";
        } else if (st == JSEC_ERR_VERIFICATION_FAILED && cipher != NULL) {
            stored_failure = ConstantString(last_error()); /* try the decrypted file below */
        } else {
            JSEC_THROW(exception, CoderError, "JSECSignatureInvalid",
                       "`%s': the signature does not verify with `%s': %s", filename, s.verify_path,
                       last_error());
            goto done;
        }
    }

    if (cipher != NULL) {
        jsec_fspe_report *report = NULL;
        if (jsec_fspe_cipher_decrypt(cipher, data, length, &report) != JSEC_OK) {
            JSEC_THROW(exception, CoderError, "JSECDecryptionFailed", "`%s': %s", filename,
                       last_error());
            goto done;
        }
        forward_warnings(report, filename, exception);
    } else if (vkey == NULL) {
        JSEC_THROW(exception, CoderWarning, "JSECNoKey",
                   "`%s': no -define jsec:key=FILE: the image is read as stored (scrambled if it "
                   "is encrypted)",
                   filename);
    }

    /* A signature over the decrypted file (signed before encryption). */
    if (vkey != NULL && verified_where == NULL) {
        if (jsec_sign_verify(vkey, NULL, data, length, &verification) == JSEC_OK) {
            verified_where = "after decryption";
        } else {
            JSEC_THROW(exception, CoderError, "JSECSignatureInvalid",
                       "`%s': the signature does not verify with `%s': as stored: %s; after "
                       "decryption: %s",
                       filename, s.verify_path, stored_failure, last_error());
            goto done;
        }
    }

    /* ImageMagick's own JPEG coder decodes the plain bytes. */
    read_info = CloneImageInfo(image_info);
    if (read_info == NULL) {
        JSEC_THROW(exception, ResourceLimitError, "MemoryAllocationFailed", "`%s'", filename);
        goto done;
    }
    (void)CopyMagickString(read_info->magick, "JPEG", MaxTextExtent);
    images = BlobToImage(read_info, data, length, exception);
    if (images == NULL) goto done;
    for (Image *next = images; next != NULL; next = GetNextImageInList(next)) {
        /* Written back without a format (mogrify), the image is encrypted again. */
        (void)CopyMagickString(next->magick, "JSEC", MaxTextExtent);
        (void)CopyMagickString(next->filename, filename, MaxTextExtent);
    }
    if (verified_where != NULL) set_signature_properties(images, &verification, verified_where);

done:
    if (stored_failure != NULL) stored_failure = DestroyString(stored_failure);
    data = (unsigned char *)wipe_and_release(data, length);
    if (read_info != NULL) read_info = DestroyImageInfo(read_info);
    if (image != NULL) image = DestroyImage(image);
    jsec_verify_key_free(vkey);
    jsec_fspe_cipher_free(cipher);
    jsec_key_free(key);
    settings_free(&s);
    return images;
}

/* --- write ------------------------------------------------------------------------ */

static MagickBooleanType WriteJSECImage(const ImageInfo *image_info, Image *image) {
    assert(image_info != (const ImageInfo *)NULL);
    assert(image_info->signature == MagickCoreSignature);
    assert(image != (Image *)NULL);
    assert(image->signature == MagickCoreSignature);

    ExceptionInfo *exception = &image->exception;
    char filename[MaxTextExtent];
    (void)CopyMagickString(filename, image->filename, MaxTextExtent);

    MagickBooleanType status = MagickFalse;
    jsec_im_settings s;
    const jsec_key *key = NULL;
    const jsec_fspe_cipher *cipher = NULL;
    ImageInfo *write_info = NULL;
    Image *jpeg_image = NULL;
    unsigned char *blob = NULL;
    size_t length = 0;

    memset(&s, 0, sizeof s);
    if (!handshake(filename, exception)) goto done;
    if (!settings_parse(image_info, &s, filename, exception)) goto done;
    if (s.key_path == NULL) {
        JSEC_THROW(exception, OptionError, "JSECNoKey",
                   "`%s': writing JSEC needs -define jsec:key=FILE (a key from jsec keygen); "
                   "nothing was written",
                   filename);
        goto done;
    }
    if (s.verify_path != NULL) {
        JSEC_THROW(exception, OptionWarning, "JSECIgnoredDefine",
                   "`%s': -define jsec:verify only applies when reading", filename);
    }
    if (s.key_level != 0) {
        JSEC_THROW(
            exception, OptionError, "JSECInvalidDefine",
            "`-define jsec:key-level=%u': only the master key (level 0) encrypts; lower-level "
            "keys only decrypt (%s)",
            (unsigned)s.key_level, filename);
        goto done;
    }
    if ((key = load_key(s.key_path, filename, exception)) == NULL) goto done;
    if (jsec_fspe_cipher_new(key, s.options, 0, &cipher) != JSEC_OK) {
        JSEC_THROW(exception, OptionError, "JSECInvalidDefine", "`%s': %s", filename, last_error());
        goto done;
    }

    /*
     * ImageMagick's JPEG coder encodes a detached clone (its own blob), with
     * the caller's settings (-quality, -sampling-factor, jpeg:* defines ...)
     * but never progressive: FSPE handles baseline and extended sequential
     * Huffman JPEGs.
     */
    write_info = CloneImageInfo(image_info);
    jpeg_image = CloneImage(image, 0, 0, MagickTrue, exception);
    if (write_info == NULL || jpeg_image == NULL) {
        if (exception->severity < ErrorException)
            JSEC_THROW(exception, ResourceLimitError, "MemoryAllocationFailed", "`%s'", filename);
        goto done;
    }
    write_info->interlace = NoInterlace;
    write_info->adjoin = MagickFalse;
    jpeg_image->interlace = NoInterlace;
    (void)CopyMagickString(write_info->magick, "JPEG", MaxTextExtent);
    /* The explicit prefix keeps ImageToBlob from picking a format by extension. */
    (void)CopyMagickString(write_info->filename, "JPEG:jsec.jpg", MaxTextExtent);
    blob = (unsigned char *)ImageToBlob(write_info, jpeg_image, &length, exception);
    if (blob == NULL || length == 0) {
        if (exception->severity < ErrorException)
            JSEC_THROW(exception, CoderError, "JSECEncodingFailed",
                       "`%s': ImageMagick's JPEG coder produced nothing", filename);
        goto done;
    }

    jsec_fspe_report *report = NULL;
    if (jsec_fspe_cipher_encrypt(cipher, blob, length, &report) != JSEC_OK) {
        JSEC_THROW(exception, CoderError, "JSECEncryptionFailed", "`%s': %s", filename,
                   last_error());
        goto done;
    }
    forward_warnings(report, filename, exception);

    errno = 0;
    if (OpenBlob(image_info, image, JsecWriteBinaryBlobMode, exception) == MagickFalse) goto done;
    ssize_t written = WriteBlob(image, length, blob);
    /* CloseBlob's result is the blob's error flag in IM6; GetBlobError (public) says it. */
    (void)CloseBlob(image);
    if (written < 0 || (size_t)written != length || GetBlobError(image) != MagickFalse) {
        JSEC_THROW(exception, CoderError, "UnableToWriteBlob", "`%s': %s", filename,
                   errno != 0 ? strerror(errno) : "write failed");
        goto done;
    }
    status = MagickTrue;

done:
    blob = (unsigned char *)wipe_and_release(blob, length);
    if (jpeg_image != NULL) jpeg_image = DestroyImage(jpeg_image);
    if (write_info != NULL) write_info = DestroyImageInfo(write_info);
    jsec_fspe_cipher_free(cipher);
    jsec_key_free(key);
    settings_free(&s);
    return status;
}

/* --- registration ----------------------------------------------------------------- */

ModuleExport size_t RegisterJSECImage(void) {
    MagickInfo *entry = SetMagickInfo("JSEC");
    entry->decoder = (DecodeImageHandler *)ReadJSECImage;
    entry->encoder = (EncodeImageHandler *)WriteJSECImage;
    entry->adjoin = MagickFalse; /* one JPEG per file */
    entry->seekable_stream = MagickFalse;
    entry->description = ConstantString("JPEG protected by jsec (file-size-preserving encryption)");
    entry->version = ConstantString(jsec_version());
    entry->note = ConstantString(
        "-define jsec:key=FILE (hex key, jsec keygen), jsec:verify=PUBKEY, jsec:rule=full|paper, "
        "jsec:components=all|luma|chroma, jsec:bands=dc,ac-low,ac-high, jsec:levels=true, "
        "jsec:key-level=N, jsec:region=X,Y,W,H, jsec:outside=true, jsec:nonce=HEX32");
    entry->mime_type = ConstantString("image/jpeg");
#if defined(JSEC_IM_HAVE_MAGICK_MODULE)
    entry->magick_module = ConstantString("JSEC");
#else
    entry->module = ConstantString("JSEC");
#endif
    (void)RegisterMagickInfo(entry);
    return MagickImageCoderSignature;
}

ModuleExport void UnregisterJSECImage(void) {
    (void)UnregisterMagickInfo("JSEC");
}
