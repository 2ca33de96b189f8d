//! Tests of the C ABI, driven through the exported functions exactly as a C
//! caller would use them (raw pointers, out-parameters, status codes).
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, CStr};
use std::mem::{offset_of, size_of};
use std::ptr;

use jsec::ffi::boundary::{
    boundary, jsec_last_error, jsec_last_error_offset, jsec_status, jsec_status::*, jsec_status_str,
};
use jsec::ffi::cipher::*;
use jsec::ffi::key::*;
use jsec::ffi::options::*;
use jsec::ffi::report::*;
use jsec::ffi::stream::*;
use jsec::{Error, ErrorKind};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// A deterministic test image: a smooth gradient plus seeded noise (an LCG),
/// so that there are plenty of non-zero AC coefficients.
fn test_jpeg(width: u16, height: u16, restart: Option<u16>, app: Option<&[u8]>) -> Vec<u8> {
    let mut state: u32 = 0x1234_5678;
    let mut pixels = Vec::with_capacity(usize::from(width) * usize::from(height) * 3);
    for y in 0..height {
        for x in 0..width {
            for c in 0..3u32 {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = (state >> 24) % 48;
                let v = (u32::from(x) * 3 + u32::from(y) * 2 + c * 60 + noise) % 256;
                pixels.push(v as u8);
            }
        }
    }
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, 85);
    if let Some(r) = restart {
        enc.set_restart_interval(r);
    }
    if let Some(data) = app {
        enc.add_app_segment(2, data).expect("APP2 segment");
    }
    enc.encode(&pixels, width, height, jpeg_encoder::ColorType::Rgb)
        .expect("encode test JPEG");
    out
}

fn last_error() -> String {
    // SAFETY: jsec_last_error never returns NULL and the string is
    // NUL-terminated and valid until the next jsec call on this thread.
    unsafe { CStr::from_ptr(jsec_last_error()) }
        .to_str()
        .expect("UTF-8")
        .to_owned()
}

fn last_offset() -> Option<u64> {
    let mut o = 0u64;
    // SAFETY: `o` is a valid u64.
    match unsafe { jsec_last_error_offset(&mut o) } {
        JSEC_OK => Some(o),
        JSEC_ERR_INVALID_STATE => None,
        s => panic!("jsec_last_error_offset: {s:?}"),
    }
}

fn key(bytes: &[u8]) -> *const jsec_key {
    let mut k = ptr::null();
    // SAFETY: `bytes` is a valid slice and `k` a valid out-pointer.
    let s = unsafe { jsec_key_new_from_bytes(bytes.as_ptr(), bytes.len(), &mut k) };
    assert_eq!(s, JSEC_OK, "{}", last_error());
    k
}

fn options() -> *mut jsec_fspe_options {
    let mut o = ptr::null_mut();
    // SAFETY: `o` is a valid out-pointer.
    assert_eq!(unsafe { jsec_fspe_options_new(&mut o) }, JSEC_OK);
    o
}

fn cipher(k: *const jsec_key, o: *const jsec_fspe_options, level: u32) -> *const jsec_fspe_cipher {
    let mut c = ptr::null();
    // SAFETY: live handles from the helpers above, valid out-pointer.
    let s = unsafe { jsec_fspe_cipher_new(k, o, level, &mut c) };
    assert_eq!(s, JSEC_OK, "{}", last_error());
    c
}

/// A cipher with a fixed 32-byte key and default options.
fn default_cipher() -> *const jsec_fspe_cipher {
    let k = key(&[0x42; 32]);
    let o = options();
    let c = cipher(k, o, 0);
    // SAFETY: handles made above, not used afterwards.
    unsafe {
        jsec_key_free(k);
        jsec_fspe_options_free(o);
    }
    c
}

fn image_info(r: *const jsec_fspe_report, index: usize) -> jsec_fspe_image_info {
    let mut info = jsec_fspe_image_info {
        struct_size: size_of::<jsec_fspe_image_info>(),
        ..Default::default()
    };
    // SAFETY: live report, `info` is a whole struct with struct_size set.
    let s = unsafe { jsec_fspe_report_image(r, index, &mut info) };
    assert_eq!(s, JSEC_OK, "{}", last_error());
    info
}

/// Run a whole file through a stream in chunks of `chunk` bytes, reading as
/// it goes; returns the output and the finished report.
fn run_stream(
    s: *mut jsec_fspe_stream,
    input: &[u8],
    chunk: usize,
) -> (Vec<u8>, *mut jsec_fspe_report) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let drain = |out: &mut Vec<u8>, buf: &mut [u8; 4096]| loop {
        let mut n = usize::MAX;
        // SAFETY: live stream, `buf` writable for its length, valid out-pointer.
        let st = unsafe { jsec_fspe_stream_read(s, buf.as_mut_ptr(), buf.len(), &mut n) };
        assert_eq!(st, JSEC_OK, "{}", last_error());
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    };
    for part in input.chunks(chunk) {
        // SAFETY: live stream, `part` readable.
        let st = unsafe { jsec_fspe_stream_write(s, part.as_ptr(), part.len()) };
        assert_eq!(st, JSEC_OK, "{}", last_error());
        drain(&mut out, &mut buf);
    }
    let mut report = ptr::null_mut();
    // SAFETY: live stream, valid out-pointer.
    let st = unsafe { jsec_fspe_stream_finish(s, &mut report) };
    assert_eq!(st, JSEC_OK, "{}", last_error());
    drain(&mut out, &mut buf);
    (out, report)
}

/// The end of the first SOS segment (start of its entropy-coded data).
fn first_scan_start(jpeg: &[u8]) -> usize {
    let mut i = 2;
    loop {
        assert_eq!(jpeg[i], 0xFF);
        let marker = jpeg[i + 1];
        let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
        if marker == 0xDA {
            return i + 2 + len;
        }
        i += 2 + len;
    }
}

// ---------------------------------------------------------------------------
// Status codes, last error, panics
// ---------------------------------------------------------------------------

#[test]
fn status_values_are_fixed() {
    let expected = [
        (JSEC_OK, 0, "JSEC_OK"),
        (JSEC_ERR_INVALID_ARGUMENT, 1, "JSEC_ERR_INVALID_ARGUMENT"),
        (JSEC_ERR_MALFORMED, 2, "JSEC_ERR_MALFORMED"),
        (JSEC_ERR_UNSUPPORTED, 3, "JSEC_ERR_UNSUPPORTED"),
        (JSEC_ERR_BUFFER_TOO_SMALL, 4, "JSEC_ERR_BUFFER_TOO_SMALL"),
        (JSEC_ERR_IO, 5, "JSEC_ERR_IO"),
        (JSEC_ERR_BAD_KEY, 6, "JSEC_ERR_BAD_KEY"),
        (
            JSEC_ERR_VERIFICATION_FAILED,
            7,
            "JSEC_ERR_VERIFICATION_FAILED",
        ),
        (JSEC_ERR_INVALID_STATE, 8, "JSEC_ERR_INVALID_STATE"),
        (JSEC_ERR_INTERNAL, 9, "JSEC_ERR_INTERNAL"),
        (JSEC_ERR_PANIC, 10, "JSEC_ERR_PANIC"),
        (JSEC_ERR_CALLBACK, 11, "JSEC_ERR_CALLBACK"),
    ];
    assert_eq!(expected.len(), jsec_status::ALL.len());
    for (status, value, name) in expected {
        assert_eq!(status as c_int, value);
        assert_eq!(jsec_status::from_code(value), Some(status));
        // SAFETY: jsec_status_str returns a static NUL-terminated string.
        let s = unsafe { CStr::from_ptr(jsec_status_str(value)) };
        assert_eq!(s.to_str(), Ok(name));
    }
    for bad in [-1, 12, 9999, c_int::MIN, c_int::MAX] {
        // SAFETY: as above.
        let s = unsafe { CStr::from_ptr(jsec_status_str(bad)) };
        assert_eq!(s.to_str(), Ok("JSEC_ERR_UNKNOWN"));
    }
}

#[test]
fn error_kinds_map_one_to_one() {
    let kinds = [
        (ErrorKind::InvalidArgument, JSEC_ERR_INVALID_ARGUMENT),
        (ErrorKind::Malformed, JSEC_ERR_MALFORMED),
        (ErrorKind::Unsupported, JSEC_ERR_UNSUPPORTED),
        (ErrorKind::BufferTooSmall, JSEC_ERR_BUFFER_TOO_SMALL),
        (ErrorKind::Io, JSEC_ERR_IO),
        (ErrorKind::BadKey, JSEC_ERR_BAD_KEY),
        (ErrorKind::VerificationFailed, JSEC_ERR_VERIFICATION_FAILED),
        (ErrorKind::InvalidState, JSEC_ERR_INVALID_STATE),
        (ErrorKind::Internal, JSEC_ERR_INTERNAL),
        (ErrorKind::Callback, JSEC_ERR_CALLBACK),
    ];
    for (kind, status) in kinds {
        assert_eq!(jsec_status::from(kind), status);
        // Through the boundary, with the message and offset recorded.
        let st = boundary("jsec_test_fn", || {
            Err(Error::new(kind, format!("{kind:?} happened")))
        });
        assert_eq!(st, status);
        assert_eq!(last_error(), format!("jsec_test_fn: {kind:?} happened"));
        assert_eq!(last_offset(), None);
    }
    // Every status except OK and PANIC comes from exactly one kind.
    let mut seen: Vec<jsec_status> = kinds.iter().map(|k| k.1).collect();
    seen.sort_by_key(|s| *s as c_int);
    seen.dedup();
    assert_eq!(seen.len(), jsec_status::ALL.len() - 2);
}

#[test]
fn last_error_is_set_cleared_and_carries_the_offset() {
    let c = default_cipher();
    // Truncated JPEG: SOI then garbage.
    let mut bad = vec![0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x43, 0x00];
    // SAFETY: live cipher, `bad` readable/writable, NULL report allowed.
    let st = unsafe { jsec_fspe_cipher_encrypt(c, bad.as_mut_ptr(), bad.len(), ptr::null_mut()) };
    assert_eq!(st, JSEC_ERR_MALFORMED);
    let msg = last_error();
    assert!(msg.starts_with("jsec_fspe_cipher_encrypt: "), "{msg}");
    let offset = last_offset().expect("a malformed error has an offset");
    assert!(msg.contains(&format!("(at byte offset {offset})")), "{msg}");
    // jsec_last_error_offset does not disturb the error.
    assert_eq!(last_error(), msg);
    // The buffer is unchanged on failure.
    assert_eq!(bad, [0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x43, 0x00]);

    // A success clears it.
    let mut n = 0usize;
    let mut hex = [0 as c_char; JSEC_KEY_HEX_CAPACITY];
    let k = key(&[1; 16]);
    // SAFETY: live key, buffer of its declared length, valid out-pointer.
    let st = unsafe { jsec_key_to_hex(k, hex.as_mut_ptr(), hex.len(), &mut n) };
    assert_eq!(st, JSEC_OK);
    assert_eq!(last_error(), "");
    assert_eq!(last_offset(), None);
    assert_eq!(
        // SAFETY: NULL out-pointer is refused without writing.
        unsafe { jsec_last_error_offset(ptr::null_mut()) },
        JSEC_ERR_INVALID_ARGUMENT
    );

    // Errors are per thread.
    assert_eq!(
        // SAFETY: NULL out-pointer makes the call fail without writing.
        unsafe { jsec_fspe_options_new(ptr::null_mut()) },
        JSEC_ERR_INVALID_ARGUMENT
    );
    let here = last_error();
    assert!(here.contains("`out` is NULL"), "{here}");
    let there = std::thread::spawn(last_error).join().expect("thread");
    assert_eq!(there, "");
    assert_eq!(last_error(), here);
    // SAFETY: handles made above.
    unsafe {
        jsec_key_free(k);
        jsec_fspe_cipher_free(c);
    }
}

#[test]
fn panics_are_caught_at_the_boundary() {
    // The same wrapper every exported function uses, around a body that
    // panics, for each kind of return value.
    let st: jsec_status = boundary("jsec_test_panic", || -> jsec::Result<()> {
        panic!("deliberate test panic")
    });
    assert_eq!(st, JSEC_ERR_PANIC);
    assert_eq!(
        last_error(),
        "jsec_test_panic: panic: deliberate test panic"
    );
    assert_eq!(last_offset(), None);

    let formatted: jsec_status = boundary("jsec_test_panic", || -> jsec::Result<()> {
        panic!("formatted {}", 42)
    });
    assert_eq!(formatted, JSEC_ERR_PANIC);
    assert!(last_error().ends_with("panic: formatted 42"));

    let text: *const c_char = boundary("jsec_test_panic", || -> *const c_char { panic!("text") });
    assert!(!text.is_null());
    // SAFETY: the panic value of a string function is a static "".
    assert_eq!(unsafe { CStr::from_ptr(text) }.to_bytes(), b"");

    let number: u32 = boundary("jsec_test_panic", || -> u32 { panic!("number") });
    assert_eq!(number, 0);

    boundary("jsec_test_panic", || -> () { panic!("unit") });

    // A raw status (jsec_last_error_offset's kind) maps a panic to PANIC too.
    let raw: jsec_status = boundary("jsec_test_panic", || -> jsec_status { panic!("raw") });
    assert_eq!(raw, JSEC_ERR_PANIC);
}

// ---------------------------------------------------------------------------
// NULL arguments and buffers
// ---------------------------------------------------------------------------

#[test]
fn null_arguments_are_invalid_and_write_nothing() {
    let k = key(&[7; 32]);
    let o = options();
    let c = cipher(k, o, 0);
    let sentinel_key = 0x10 as *const jsec_key;
    let mut kout = sentinel_key;
    let mut jpeg = test_jpeg(16, 16, None, None);
    let nul = ptr::null_mut::<usize>();
    // SAFETY: every call passes NULL for at least one required pointer and
    // otherwise valid arguments; none of them may write anything.
    unsafe {
        assert_eq!(
            jsec_key_new_from_bytes(ptr::null(), 16, &mut kout),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_key_new_from_bytes([0u8; 16].as_ptr(), 16, ptr::null_mut()),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_key_new_from_hex(ptr::null(), &mut kout),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_key_generate(32, ptr::null_mut()),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_key_derive(ptr::null(), 1, &mut kout),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_key_derive(k, 1, ptr::null_mut()),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_key_to_hex(ptr::null(), ptr::null_mut(), 0, &mut 0),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_key_to_hex(k, ptr::null_mut(), 0, nul),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_key_to_hex(k, ptr::null_mut(), 65, &mut 0),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(kout, sentinel_key);

        assert_eq!(
            jsec_fspe_options_new(ptr::null_mut()),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_options_set_rule(ptr::null_mut(), 0),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_options_set_components(ptr::null_mut(), 0),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_options_set_bands(ptr::null_mut(), 1),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_options_set_region(ptr::null_mut(), 0, 0, 8, 8, false),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_options_clear_region(ptr::null_mut()),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_options_set_levels(ptr::null_mut(), true),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_options_set_nonce(ptr::null_mut(), [0u8; 16].as_ptr(), 16),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_options_set_nonce(o, ptr::null(), 16),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_options_clear_nonce(ptr::null_mut()),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_options_set_metadata(ptr::null_mut(), JSEC_FSPE_METADATA_GPS),
            JSEC_ERR_INVALID_ARGUMENT
        );

        let sentinel_cipher = 0x10 as *const jsec_fspe_cipher;
        let mut cout = sentinel_cipher;
        assert_eq!(
            jsec_fspe_cipher_new(ptr::null(), o, 0, &mut cout),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_cipher_new(k, ptr::null(), 0, &mut cout),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_cipher_new(k, o, 0, ptr::null_mut()),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(cout, sentinel_cipher);

        let sentinel_report = 0x10 as *mut jsec_fspe_report;
        let mut rout = sentinel_report;
        assert_eq!(
            jsec_fspe_cipher_encrypt(ptr::null(), jpeg.as_mut_ptr(), jpeg.len(), &mut rout),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_cipher_encrypt(c, ptr::null_mut(), 0, &mut rout),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_cipher_decrypt(c, ptr::null_mut(), 10, &mut rout),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_inspect(ptr::null(), 0, &mut rout),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_inspect(jpeg.as_ptr(), jpeg.len(), ptr::null_mut()),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(rout, sentinel_report);
        let mut scan = [0u8; 4];
        assert_eq!(
            jsec_fspe_cipher_process_scan(
                ptr::null(),
                0,
                ptr::null(),
                0,
                jpeg.as_ptr(),
                10,
                scan.as_mut_ptr(),
                4,
                ptr::null_mut()
            ),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_cipher_process_scan(
                c,
                0,
                ptr::null(),
                0,
                ptr::null(),
                10,
                scan.as_mut_ptr(),
                4,
                ptr::null_mut()
            ),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_cipher_process_scan(
                c,
                0,
                ptr::null(),
                0,
                jpeg.as_ptr(),
                10,
                ptr::null_mut(),
                4,
                ptr::null_mut()
            ),
            JSEC_ERR_INVALID_ARGUMENT
        );

        let mut n = 0usize;
        let mut u = 0u64;
        let mut info = jsec_fspe_image_info {
            struct_size: size_of::<jsec_fspe_image_info>(),
            ..Default::default()
        };
        assert_eq!(
            jsec_fspe_report_image_count(ptr::null(), &mut n),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_report_image(ptr::null(), 0, &mut info),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_report_image_component(ptr::null(), 0, 0, &mut 0, &mut 0, &mut 0),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_report_image_problem(ptr::null(), 0, ptr::null_mut(), 0, &mut n),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_report_warning_count(ptr::null(), &mut n),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_report_warning(ptr::null(), 0, &mut u, ptr::null_mut(), 0, &mut n),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_report_trailing_bytes(ptr::null(), &mut u),
            JSEC_ERR_INVALID_ARGUMENT
        );
        let mut field = jsec_fspe_metadata_field {
            struct_size: size_of::<jsec_fspe_metadata_field>(),
            ..Default::default()
        };
        assert_eq!(
            jsec_fspe_report_metadata_count(ptr::null(), &mut n),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_report_metadata_field(ptr::null(), 0, &mut field),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_report_metadata_name(ptr::null(), 0, ptr::null_mut(), 0, &mut n),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_report_metadata_problem(ptr::null(), 0, ptr::null_mut(), 0, &mut n),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(field.length, 0);

        let sentinel_stream = 0x10 as *mut jsec_fspe_stream;
        let mut sout = sentinel_stream;
        assert_eq!(
            jsec_fspe_digest_stream_new(ptr::null(), &mut sout),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_digest_stream_new(c, ptr::null_mut()),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_stream_new(ptr::null(), 0, ptr::null(), 0, &mut sout),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(sout, sentinel_stream);
        assert_eq!(
            jsec_fspe_stream_write(ptr::null_mut(), jpeg.as_ptr(), 1),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_stream_read(ptr::null_mut(), scan.as_mut_ptr(), 4, &mut n),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_stream_available(ptr::null(), &mut n),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_stream_finish(ptr::null_mut(), ptr::null_mut()),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_stream_seed(ptr::null(), scan.as_mut_ptr(), 32),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(n, 0);
        assert_eq!(u, 0);

        // A real stream with NULL buffers.
        let mut s = ptr::null_mut();
        assert_eq!(jsec_fspe_digest_stream_new(c, &mut s), JSEC_OK);
        assert_eq!(
            jsec_fspe_stream_write(s, ptr::null(), 0),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_stream_read(s, ptr::null_mut(), 4, &mut n),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_stream_read(s, scan.as_mut_ptr(), 4, ptr::null_mut()),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_stream_available(s, ptr::null_mut()),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_stream_seed(s, ptr::null_mut(), 32),
            JSEC_ERR_INVALID_ARGUMENT
        );
        jsec_fspe_stream_free(s);

        // _free(NULL) is a no-op for every type.
        jsec_key_free(ptr::null());
        jsec_fspe_options_free(ptr::null_mut());
        jsec_fspe_cipher_free(ptr::null());
        jsec_fspe_report_free(ptr::null_mut());
        jsec_fspe_stream_free(ptr::null_mut());

        jsec_fspe_cipher_free(c);
        jsec_fspe_options_free(o);
        jsec_key_free(k);
    }
}

#[test]
fn short_and_bad_buffers() {
    let k = key(&[0xAB; 16]);
    let mut n = usize::MAX;
    // Size query: NULL buffer with length 0.
    // SAFETY: live key; NULL with length 0 is the documented size query.
    let st = unsafe { jsec_key_to_hex(k, ptr::null_mut(), 0, &mut n) };
    assert_eq!(st, JSEC_ERR_BUFFER_TOO_SMALL);
    assert_eq!(n, 32);
    assert!(last_error().contains("33 needed"), "{}", last_error());
    // One byte short: nothing written to the buffer.
    let mut small = [0x55 as c_char; 32];
    // SAFETY: buffer of its declared length.
    let st = unsafe { jsec_key_to_hex(k, small.as_mut_ptr(), small.len(), &mut n) };
    assert_eq!(st, JSEC_ERR_BUFFER_TOO_SMALL);
    assert_eq!(n, 32);
    assert!(small.iter().all(|&b| b == 0x55));
    // Exactly enough.
    let mut exact = [0x55 as c_char; 33];
    // SAFETY: buffer of its declared length.
    let st = unsafe { jsec_key_to_hex(k, exact.as_mut_ptr(), exact.len(), &mut n) };
    assert_eq!(st, JSEC_OK);
    assert_eq!(n, 32);
    // SAFETY: jsec wrote a NUL-terminated string into `exact`.
    let hex = unsafe { CStr::from_ptr(exact.as_ptr()) };
    assert_eq!(hex.to_str(), Ok("ab".repeat(16).as_str()));

    // Fixed-size inputs: exactly 16 bytes of nonce, 32 of seed.
    let o = options();
    let nonce = [9u8; 17];
    // SAFETY: `nonce` is readable for every length passed.
    unsafe {
        assert_eq!(
            jsec_fspe_options_set_nonce(o, nonce.as_ptr(), 15),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_options_set_nonce(o, nonce.as_ptr(), 17),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_options_set_nonce(o, nonce.as_ptr(), JSEC_FSPE_NONCE_LEN),
            JSEC_OK
        );
    }
    let c = cipher(k, o, 0);
    let seed = [3u8; 33];
    let mut s = ptr::null_mut();
    // SAFETY: `seed` is readable for every length passed; valid out-pointer.
    unsafe {
        assert_eq!(
            jsec_fspe_stream_new(c, 0, seed.as_ptr(), 31, &mut s),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_stream_new(c, 0, seed.as_ptr(), 33, &mut s),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_stream_new(c, 0, ptr::null(), 32, &mut s),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert!(s.is_null());
        // Unknown direction.
        assert_eq!(
            jsec_fspe_stream_new(c, 2, seed.as_ptr(), 32, &mut s),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert!(s.is_null());
    }

    // Seed output: at least 32 bytes, and only a finished digest stream has one.
    let jpeg = test_jpeg(24, 16, None, None);
    let mut d = ptr::null_mut();
    // SAFETY: live cipher, valid out-pointer.
    assert_eq!(unsafe { jsec_fspe_digest_stream_new(c, &mut d) }, JSEC_OK);
    let mut out = [0u8; 32];
    assert_eq!(
        // SAFETY: live stream, `out` writable for 32 bytes.
        unsafe { jsec_fspe_stream_seed(d, out.as_mut_ptr(), 32) },
        JSEC_ERR_INVALID_STATE
    );
    let (passed, r) = run_stream(d, &jpeg, 100);
    assert_eq!(passed, jpeg);
    // SAFETY: live stream, `out` writable for at least the lengths passed.
    unsafe {
        assert_eq!(
            jsec_fspe_stream_seed(d, out.as_mut_ptr(), 31),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(out, [0u8; 32]);
        assert_eq!(jsec_fspe_stream_seed(d, out.as_mut_ptr(), 32), JSEC_OK);
        assert_ne!(out, [0u8; 32]);
        // Finishing twice is a state error.
        assert_eq!(
            jsec_fspe_stream_finish(d, ptr::null_mut()),
            JSEC_ERR_INVALID_STATE
        );
        jsec_fspe_stream_free(d);
    }

    // Caller structs: struct_size below sizeof(size_t) is refused, a short
    // struct_size fills only what fits.
    let mut info = jsec_fspe_image_info {
        struct_size: 4,
        ..Default::default()
    };
    assert_eq!(
        // SAFETY: live report, `info` is a whole struct.
        unsafe { jsec_fspe_report_image(r, 0, &mut info) },
        JSEC_ERR_INVALID_ARGUMENT
    );
    assert_eq!(
        info,
        jsec_fspe_image_info {
            struct_size: 4,
            ..Default::default()
        }
    );
    let upto = offset_of!(jsec_fspe_image_info, height);
    let mut info = jsec_fspe_image_info {
        struct_size: upto,
        ..Default::default()
    };
    // SAFETY: live report; the struct is larger than the struct_size it declares.
    assert_eq!(unsafe { jsec_fspe_report_image(r, 0, &mut info) }, JSEC_OK);
    assert_eq!(info.struct_size, upto);
    assert_eq!(info.width, 24);
    assert_eq!(info.height, 0, "past struct_size: untouched");
    assert_eq!(info.encrypted_bits, 0, "past struct_size: untouched");
    // A struct_size that ends inside a field does not fill that field.
    let mut info = jsec_fspe_image_info {
        struct_size: offset_of!(jsec_fspe_image_info, height) + 2,
        ..Default::default()
    };
    // SAFETY: live report; the struct is larger than the struct_size it declares.
    assert_eq!(unsafe { jsec_fspe_report_image(r, 0, &mut info) }, JSEC_OK);
    assert_eq!((info.width, info.height), (24, 0));
    // Index out of range.
    let mut full = jsec_fspe_image_info {
        struct_size: size_of::<jsec_fspe_image_info>(),
        ..Default::default()
    };
    assert_eq!(
        // SAFETY: live report, whole struct.
        unsafe { jsec_fspe_report_image(r, 1, &mut full) },
        JSEC_ERR_INVALID_ARGUMENT
    );
    assert!(last_error().contains("out of range"));

    // Option values.
    // SAFETY: live options builder.
    unsafe {
        assert_eq!(jsec_fspe_options_set_rule(o, 2), JSEC_ERR_INVALID_ARGUMENT);
        assert_eq!(
            jsec_fspe_options_set_components(o, 3),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(jsec_fspe_options_set_bands(o, 0), JSEC_ERR_INVALID_ARGUMENT);
        assert_eq!(jsec_fspe_options_set_bands(o, 8), JSEC_ERR_INVALID_ARGUMENT);
        assert_eq!(
            jsec_fspe_options_set_region(o, 0, 0, 0, 8, false),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_options_set_bands(o, JSEC_FSPE_BAND_DC | JSEC_FSPE_BAND_AC_HIGH),
            JSEC_OK
        );
        // A level above 0 without multi-level options, or above 2.
        let mut cout = ptr::null();
        assert_eq!(
            jsec_fspe_cipher_new(k, o, 1, &mut cout),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(jsec_fspe_options_set_levels(o, true), JSEC_OK);
        assert_eq!(
            jsec_fspe_cipher_new(k, o, 3, &mut cout),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_cipher_new(k, o, 256, &mut cout),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert!(cout.is_null());
    }

    // SAFETY: handles made above.
    unsafe {
        jsec_fspe_report_free(r);
        jsec_fspe_cipher_free(c);
        jsec_fspe_options_free(o);
        jsec_key_free(k);
    }
}

// ---------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------

#[test]
fn keys_from_hex_generate_and_derive() {
    let text = c"00112233 44556677\n8899aabbccddeeff00112233445566778899AABBCCDDEEFF\n";
    let mut k = ptr::null();
    assert_eq!(
        // SAFETY: NUL-terminated text, valid out-pointer.
        unsafe { jsec_key_new_from_hex(text.as_ptr(), &mut k) },
        JSEC_OK
    );
    let mut buf = [0 as c_char; JSEC_KEY_HEX_CAPACITY];
    let mut n = 0;
    assert_eq!(
        // SAFETY: live key, buffer of its declared length.
        unsafe { jsec_key_to_hex(k, buf.as_mut_ptr(), buf.len(), &mut n) },
        JSEC_OK
    );
    assert_eq!(n, 64);
    // SAFETY: NUL-terminated output.
    let hex = unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_str()
        .expect("ASCII")
        .to_owned();
    assert_eq!(hex, "00112233445566778899aabbccddeeff".repeat(2));

    // Derive agrees with the Rust API.
    let mut k2 = ptr::null();
    // SAFETY: live key, valid out-pointer.
    assert_eq!(unsafe { jsec_key_derive(k, 2, &mut k2) }, JSEC_OK);
    assert_eq!(
        // SAFETY: live key, buffer of its declared length.
        unsafe { jsec_key_to_hex(k2, buf.as_mut_ptr(), buf.len(), &mut n) },
        JSEC_OK
    );
    let rust = jsec::crypto::Key::from_hex(&hex)
        .expect("hex")
        .derive(2)
        .to_hex();
    assert_eq!(
        // SAFETY: NUL-terminated output.
        unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str(),
        Ok(rust.as_str())
    );
    let mut kx = ptr::null();
    assert_eq!(
        // SAFETY: live key, valid out-pointer.
        unsafe { jsec_key_derive(k, 256, &mut kx) },
        JSEC_ERR_INVALID_ARGUMENT
    );
    assert!(kx.is_null());

    // Bad keys.
    // SAFETY: NUL-terminated texts and readable byte buffers, valid out-pointer.
    unsafe {
        assert_eq!(
            jsec_key_new_from_hex(c"abc".as_ptr(), &mut kx),
            JSEC_ERR_BAD_KEY
        );
        assert_eq!(
            jsec_key_new_from_hex(c"zz".as_ptr(), &mut kx),
            JSEC_ERR_BAD_KEY
        );
        assert_eq!(
            jsec_key_new_from_bytes([0u8; 24].as_ptr(), 24, &mut kx),
            JSEC_ERR_BAD_KEY
        );
        assert!(last_error().contains("24 bytes"));
        assert_eq!(jsec_key_generate(24, &mut kx), JSEC_ERR_INVALID_ARGUMENT);
        assert!(kx.is_null());
        let (mut a, mut b) = (ptr::null(), ptr::null());
        assert_eq!(jsec_key_generate(16, &mut a), JSEC_OK);
        assert_eq!(jsec_key_generate(16, &mut b), JSEC_OK);
        let (mut ha, mut hb) = ([0 as c_char; 33], [0 as c_char; 33]);
        assert_eq!(jsec_key_to_hex(a, ha.as_mut_ptr(), 33, &mut n), JSEC_OK);
        assert_eq!(jsec_key_to_hex(b, hb.as_mut_ptr(), 33, &mut n), JSEC_OK);
        assert_ne!(ha, hb);
        jsec_key_free(a);
        jsec_key_free(b);
        jsec_key_free(k2);
        jsec_key_free(k);
    }
}

// ---------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------

#[test]
fn encrypt_decrypt_round_trip_through_the_c_functions() {
    let original = test_jpeg(64, 48, None, None);
    let c = default_cipher();
    let mut buf = original.clone();
    let mut report = ptr::null_mut();
    // SAFETY: live cipher, `buf` readable/writable for its length, valid out-pointer.
    let st = unsafe { jsec_fspe_cipher_encrypt(c, buf.as_mut_ptr(), buf.len(), &mut report) };
    assert_eq!(st, JSEC_OK, "{}", last_error());
    assert_eq!(buf.len(), original.len());
    assert_ne!(buf, original);
    assert!(!report.is_null());

    let mut count = 0;
    assert_eq!(
        // SAFETY: live report, valid out-pointer.
        unsafe { jsec_fspe_report_image_count(report, &mut count) },
        JSEC_OK
    );
    assert_eq!(count, 1);
    let info = image_info(report, 0);
    assert_eq!((info.width, info.height), (64, 48));
    assert_eq!(info.location, jsec_fspe_location::Primary as u32);
    assert_eq!(info.component_count, 3);
    assert_eq!(info.scans, 1);
    assert_eq!(info.problem_len, 0);
    assert!(info.encrypted_bits > 0);
    assert!(info.encrypted_bits <= info.eligible_full_bits);
    assert!(info.eligible_full_bits <= info.additional_bits);
    let (mut id, mut h, mut v) = (0u8, 0u8, 0u8);
    // SAFETY: live report, valid out-pointers.
    unsafe {
        assert_eq!(
            jsec_fspe_report_image_component(report, 0, 0, &mut id, &mut h, &mut v),
            JSEC_OK
        );
        assert!(h >= 1 && v >= 1);
        assert_eq!(
            jsec_fspe_report_image_component(report, 0, 3, &mut id, &mut h, &mut v),
            JSEC_ERR_INVALID_ARGUMENT
        );
        let mut n = 7usize;
        let mut text = [0x55 as c_char; 4];
        assert_eq!(
            jsec_fspe_report_image_problem(report, 0, text.as_mut_ptr(), 4, &mut n),
            JSEC_OK
        );
        assert_eq!((n, text[0]), (0, 0));
        assert_eq!(jsec_fspe_report_warning_count(report, &mut n), JSEC_OK);
        assert_eq!(n, 0);
        let mut t = 9u64;
        assert_eq!(jsec_fspe_report_trailing_bytes(report, &mut t), JSEC_OK);
        assert_eq!(t, 0);
        let mut off = 0u64;
        assert_eq!(
            jsec_fspe_report_warning(report, 0, &mut off, text.as_mut_ptr(), 4, &mut n),
            JSEC_ERR_INVALID_ARGUMENT
        );
        jsec_fspe_report_free(report);
    }

    // The result is the same as the Rust API's.
    let mut rust = original.clone();
    jsec::fspe::Cipher::new(
        jsec::crypto::Key::from_bytes(&[0x42; 32]).expect("key"),
        jsec::fspe::Options::default(),
    )
    .expect("cipher")
    .encrypt(&mut rust)
    .expect("encrypt");
    assert_eq!(buf, rust);

    // Decrypt, without a report.
    // SAFETY: live cipher, `buf` readable/writable, NULL report allowed.
    let st = unsafe { jsec_fspe_cipher_decrypt(c, buf.as_mut_ptr(), buf.len(), ptr::null_mut()) };
    assert_eq!(st, JSEC_OK, "{}", last_error());
    assert_eq!(buf, original);
    // SAFETY: handle made above.
    unsafe { jsec_fspe_cipher_free(c) };
}

#[test]
fn streams_match_in_place_and_round_trip() {
    let original = test_jpeg(40, 40, Some(2), None);
    let c = default_cipher();
    let mut in_place = original.clone();
    assert_eq!(
        // SAFETY: live cipher, buffer readable/writable, NULL report allowed.
        unsafe {
            jsec_fspe_cipher_encrypt(c, in_place.as_mut_ptr(), in_place.len(), ptr::null_mut())
        },
        JSEC_OK
    );

    // Pass 1: digest.
    let mut d = ptr::null_mut();
    // SAFETY: live cipher, valid out-pointer.
    assert_eq!(unsafe { jsec_fspe_digest_stream_new(c, &mut d) }, JSEC_OK);
    let (passed, r) = run_stream(d, &original, 37);
    assert_eq!(passed, original);
    let mut seed = [0u8; JSEC_FSPE_SEED_LEN];
    // SAFETY: live stream, `seed` writable for its length; handles freed once.
    unsafe {
        assert_eq!(
            jsec_fspe_stream_seed(d, seed.as_mut_ptr(), seed.len()),
            JSEC_OK
        );
        jsec_fspe_stream_free(d);
        jsec_fspe_report_free(r);
    }

    // Pass 2: encrypt with the seed.
    let mut e = ptr::null_mut();
    let enc_dir = jsec_fspe_direction::Encrypt as u32;
    assert_eq!(
        // SAFETY: live cipher, `seed` readable, valid out-pointer.
        unsafe { jsec_fspe_stream_new(c, enc_dir, seed.as_ptr(), seed.len(), &mut e) },
        JSEC_OK
    );
    let (encrypted, r) = run_stream(e, &original, 101);
    assert_eq!(encrypted, in_place);
    let info = image_info(r, 0);
    assert!(info.encrypted_bits > 0);
    // SAFETY: handles made above, freed once; writing after finish is a state error.
    unsafe {
        assert_eq!(
            jsec_fspe_stream_write(e, original.as_ptr(), 1),
            JSEC_ERR_INVALID_STATE
        );
        jsec_fspe_stream_free(e);
        jsec_fspe_report_free(r);
    }

    // Without a seed or caller nonce a cipher stream cannot start.
    let mut x = ptr::null_mut();
    assert_eq!(
        // SAFETY: live cipher, NULL seed with length 0, valid out-pointer.
        unsafe { jsec_fspe_stream_new(c, enc_dir, ptr::null(), 0, &mut x) },
        JSEC_ERR_INVALID_ARGUMENT
    );
    assert!(x.is_null());

    // Decrypt stream (the protected file has the same seed).
    let mut dd = ptr::null_mut();
    let dec_dir = jsec_fspe_direction::Decrypt as u32;
    assert_eq!(
        // SAFETY: live cipher, `seed` readable, valid out-pointer.
        unsafe { jsec_fspe_stream_new(c, dec_dir, seed.as_ptr(), seed.len(), &mut dd) },
        JSEC_OK
    );
    let (decrypted, r) = run_stream(dd, &encrypted, 4096);
    assert_eq!(decrypted, original);
    // SAFETY: handles made above, freed once.
    unsafe {
        jsec_fspe_stream_free(dd);
        jsec_fspe_report_free(r);
    }

    // A truncated input fails at finish with MALFORMED.
    let mut t = ptr::null_mut();
    // SAFETY: live cipher, valid out-pointer; the stream is freed once.
    unsafe {
        assert_eq!(jsec_fspe_digest_stream_new(c, &mut t), JSEC_OK);
        let half = &original[..original.len() / 2];
        assert_eq!(
            jsec_fspe_stream_write(t, half.as_ptr(), half.len()),
            JSEC_OK
        );
        let mut r = 0x10 as *mut jsec_fspe_report;
        assert_eq!(jsec_fspe_stream_finish(t, &mut r), JSEC_ERR_MALFORMED);
        assert_eq!(r, 0x10 as *mut jsec_fspe_report, "not written on failure");
        assert!(last_offset().is_some());
        jsec_fspe_stream_free(t);
        jsec_fspe_cipher_free(c);
    }
}

#[test]
fn caller_nonce_streams_need_no_seed() {
    let original = test_jpeg(32, 24, None, None);
    let k = key(&[5; 16]);
    let o = options();
    assert_eq!(
        // SAFETY: live builder, nonce readable.
        unsafe { jsec_fspe_options_set_nonce(o, [1u8; 16].as_ptr(), 16) },
        JSEC_OK
    );
    let c = cipher(k, o, 0);
    let mut in_place = original.clone();
    assert_eq!(
        // SAFETY: live cipher, buffer readable/writable.
        unsafe {
            jsec_fspe_cipher_encrypt(c, in_place.as_mut_ptr(), in_place.len(), ptr::null_mut())
        },
        JSEC_OK
    );
    let mut s = ptr::null_mut();
    assert_eq!(
        // SAFETY: live cipher, NULL seed with length 0 (caller nonce), valid out-pointer.
        unsafe { jsec_fspe_stream_new(c, 0, ptr::null(), 0, &mut s) },
        JSEC_OK
    );
    let (streamed, r) = run_stream(s, &original, 64);
    assert_eq!(streamed, in_place);
    // A cipher stream has no seed to give.
    let mut seed = [0u8; 32];
    // SAFETY: live stream, `seed` writable; handles freed once.
    unsafe {
        assert_eq!(
            jsec_fspe_stream_seed(s, seed.as_mut_ptr(), 32),
            JSEC_ERR_INVALID_STATE
        );
        jsec_fspe_stream_free(s);
        jsec_fspe_report_free(r);
        // Clearing the nonce changes the result.
        assert_eq!(jsec_fspe_options_clear_nonce(o), JSEC_OK);
    }
    let c2 = cipher(k, o, 0);
    let mut other = original.clone();
    // SAFETY: live cipher, buffer readable/writable; handles freed once.
    unsafe {
        assert_eq!(
            jsec_fspe_cipher_encrypt(c2, other.as_mut_ptr(), other.len(), ptr::null_mut()),
            JSEC_OK
        );
        assert_ne!(other, in_place);
        jsec_fspe_cipher_free(c2);
        jsec_fspe_cipher_free(c);
        jsec_fspe_options_free(o);
        jsec_key_free(k);
    }
}

#[test]
fn per_scan_matches_whole_file() {
    let original = test_jpeg(48, 32, Some(3), None);
    let c = default_cipher();
    let mut whole = original.clone();
    assert_eq!(
        // SAFETY: live cipher, buffer readable/writable.
        unsafe { jsec_fspe_cipher_encrypt(c, whole.as_mut_ptr(), whole.len(), ptr::null_mut()) },
        JSEC_OK
    );

    let mut d = ptr::null_mut();
    // SAFETY: live cipher, valid out-pointer.
    assert_eq!(unsafe { jsec_fspe_digest_stream_new(c, &mut d) }, JSEC_OK);
    let (_, r) = run_stream(d, &original, 512);
    let mut seed = [0u8; 32];
    // SAFETY: live stream, `seed` writable; handles freed once.
    unsafe {
        assert_eq!(jsec_fspe_stream_seed(d, seed.as_mut_ptr(), 32), JSEC_OK);
        jsec_fspe_stream_free(d);
        jsec_fspe_report_free(r);
    }

    let start = first_scan_start(&original);
    let end = original.len() - 2; // the EOI ends the only scan
    let prefix = &original[..start];
    let mut scan = original[start..end].to_vec();
    let mut stats = jsec_fspe_bit_stats {
        struct_size: size_of::<jsec_fspe_bit_stats>(),
        ..Default::default()
    };
    // SAFETY: live cipher; seed, prefix and scan valid for their lengths; whole stats struct.
    let st = unsafe {
        jsec_fspe_cipher_process_scan(
            c,
            0,
            seed.as_ptr(),
            32,
            prefix.as_ptr(),
            prefix.len(),
            scan.as_mut_ptr(),
            scan.len(),
            &mut stats,
        )
    };
    assert_eq!(st, JSEC_OK, "{}", last_error());
    assert_eq!(scan, &whole[start..end]);
    assert!(stats.encrypted_bits > 0);
    assert_eq!(stats.struct_size, size_of::<jsec_fspe_bit_stats>());

    // Decrypt it back, without stats.
    // SAFETY: as above, NULL stats allowed.
    let st = unsafe {
        jsec_fspe_cipher_process_scan(
            c,
            1,
            seed.as_ptr(),
            32,
            prefix.as_ptr(),
            prefix.len(),
            scan.as_mut_ptr(),
            scan.len(),
            ptr::null_mut(),
        )
    };
    assert_eq!(st, JSEC_OK, "{}", last_error());
    assert_eq!(scan, &original[start..end]);

    // Failures leave the scan unchanged: no seed, bad struct_size, bad prefix.
    let before = scan.clone();
    let mut bad_stats = jsec_fspe_bit_stats {
        struct_size: 0,
        ..Default::default()
    };
    // SAFETY: as above.
    unsafe {
        assert_eq!(
            jsec_fspe_cipher_process_scan(
                c,
                0,
                ptr::null(),
                0,
                prefix.as_ptr(),
                prefix.len(),
                scan.as_mut_ptr(),
                scan.len(),
                ptr::null_mut()
            ),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_cipher_process_scan(
                c,
                0,
                seed.as_ptr(),
                32,
                prefix.as_ptr(),
                prefix.len(),
                scan.as_mut_ptr(),
                scan.len(),
                &mut bad_stats
            ),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_ne!(
            jsec_fspe_cipher_process_scan(
                c,
                0,
                seed.as_ptr(),
                32,
                prefix.as_ptr(),
                start - 4,
                scan.as_mut_ptr(),
                scan.len(),
                ptr::null_mut()
            ),
            JSEC_OK
        );
        assert_eq!(scan, before);
        jsec_fspe_cipher_free(c);
    }
}

#[test]
fn multi_level_keys_restore_their_bands() {
    let original = test_jpeg(32, 32, None, None);
    let k0 = key(&[0x11; 32]);
    let o = options();
    // SAFETY: live builder.
    assert_eq!(unsafe { jsec_fspe_options_set_levels(o, true) }, JSEC_OK);
    let c0 = cipher(k0, o, 0);
    let mut enc = original.clone();
    assert_eq!(
        // SAFETY: live cipher, buffer readable/writable.
        unsafe { jsec_fspe_cipher_encrypt(c0, enc.as_mut_ptr(), enc.len(), ptr::null_mut()) },
        JSEC_OK
    );
    let mut k1 = ptr::null();
    // SAFETY: live key, valid out-pointer.
    assert_eq!(unsafe { jsec_key_derive(k0, 1, &mut k1) }, JSEC_OK);
    let c1 = cipher(k1, o, 1);
    let mut partial = enc.clone();
    // SAFETY: live ciphers, buffers readable/writable.
    unsafe {
        // A level-1 key cannot encrypt.
        let mut p = original.clone();
        assert_eq!(
            jsec_fspe_cipher_encrypt(c1, p.as_mut_ptr(), p.len(), ptr::null_mut()),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(p, original);
        assert_eq!(
            jsec_fspe_cipher_decrypt(c1, partial.as_mut_ptr(), partial.len(), ptr::null_mut()),
            JSEC_OK
        );
    }
    // Same as the Rust API's level-1 decryption.
    let mut rust = enc.clone();
    let rk0 = jsec::crypto::Key::from_bytes(&[0x11; 32]).expect("key");
    let opts = jsec::fspe::Options {
        levels: true,
        ..Default::default()
    };
    jsec::fspe::Cipher::new(rk0.derive(1), opts)
        .and_then(|c| c.with_key_level(1))
        .and_then(|c| c.decrypt(&mut rust))
        .expect("rust level-1 decrypt");
    assert_eq!(partial, rust);
    assert_ne!(partial, original);
    assert_ne!(partial, enc);
    // SAFETY: handles made above, freed once.
    unsafe {
        jsec_fspe_cipher_free(c1);
        jsec_fspe_cipher_free(c0);
        jsec_key_free(k1);
        jsec_key_free(k0);
        jsec_fspe_options_free(o);
    }
}

#[test]
fn one_cipher_many_threads() {
    let original = test_jpeg(32, 32, None, None);
    let c = default_cipher() as usize; // a handle is shareable: pass its address
    let mut expected = original.clone();
    assert_eq!(
        // SAFETY: live cipher, buffer readable/writable.
        unsafe {
            jsec_fspe_cipher_encrypt(
                c as *const jsec_fspe_cipher,
                expected.as_mut_ptr(),
                expected.len(),
                ptr::null_mut(),
            )
        },
        JSEC_OK
    );
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let original = original.clone();
            let expected = expected.clone();
            std::thread::spawn(move || {
                for _ in 0..5 {
                    let mut buf = original.clone();
                    let cp = c as *const jsec_fspe_cipher;
                    // SAFETY: the cipher outlives the threads (freed after join)
                    // and is immutable; each thread has its own buffer.
                    unsafe {
                        assert_eq!(
                            jsec_fspe_cipher_encrypt(
                                cp,
                                buf.as_mut_ptr(),
                                buf.len(),
                                ptr::null_mut()
                            ),
                            JSEC_OK
                        );
                        assert_eq!(buf, expected);
                        assert_eq!(
                            jsec_fspe_cipher_decrypt(
                                cp,
                                buf.as_mut_ptr(),
                                buf.len(),
                                ptr::null_mut()
                            ),
                            JSEC_OK
                        );
                    }
                    assert_eq!(buf, original);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    // SAFETY: all threads joined; freed once.
    unsafe { jsec_fspe_cipher_free(c as *const jsec_fspe_cipher) };
}

#[test]
fn inspect_reports_embedded_images_and_warnings() {
    let thumb = test_jpeg(16, 16, None, None);
    let mut file = test_jpeg(40, 24, None, Some(&thumb));
    file.extend_from_slice(b"trailing");
    let mut r = ptr::null_mut();
    // SAFETY: `file` readable, valid out-pointer.
    let st = unsafe { jsec_fspe_inspect(file.as_ptr(), file.len(), &mut r) };
    assert_eq!(st, JSEC_OK, "{}", last_error());
    let mut count = 0;
    assert_eq!(
        // SAFETY: live report, valid out-pointer.
        unsafe { jsec_fspe_report_image_count(r, &mut count) },
        JSEC_OK
    );
    assert_eq!(count, 2);
    let primary = image_info(r, 0);
    assert_eq!((primary.width, primary.height, primary.offset), (40, 24, 0));
    let embedded = image_info(r, 1);
    assert_eq!(embedded.location, jsec_fspe_location::InSegment as u32);
    assert_eq!(embedded.segment_marker, 0xE2);
    assert_eq!((embedded.width, embedded.height), (16, 16));
    assert_eq!(embedded.end - embedded.offset, thumb.len() as u64);
    assert!(embedded.segment_offset < embedded.offset);
    assert_eq!(&file[embedded.segment_offset as usize..][..2], [0xFF, 0xE2]);
    let mut trailing = 0;
    assert_eq!(
        // SAFETY: live report, valid out-pointer.
        unsafe { jsec_fspe_report_trailing_bytes(r, &mut trailing) },
        JSEC_OK
    );
    assert_eq!(trailing, 8);
    let mut n = 0;
    assert_eq!(
        // SAFETY: live report, valid out-pointer.
        unsafe { jsec_fspe_report_warning_count(r, &mut n) },
        JSEC_OK
    );
    for i in 0..n {
        let (mut off, mut len) = (0u64, 0usize);
        // SAFETY: size query (NULL, 0), then a buffer of the reported size.
        unsafe {
            assert_eq!(
                jsec_fspe_report_warning(r, i, &mut off, ptr::null_mut(), 0, &mut len),
                JSEC_ERR_BUFFER_TOO_SMALL
            );
            let mut text = vec![0 as c_char; len + 1];
            assert_eq!(
                jsec_fspe_report_warning(r, i, &mut off, text.as_mut_ptr(), text.len(), &mut len),
                JSEC_OK
            );
            assert_eq!(CStr::from_ptr(text.as_ptr()).to_bytes().len(), len);
        }
        assert!(off <= file.len() as u64);
    }
    // SAFETY: handle made above.
    unsafe { jsec_fspe_report_free(r) };

    // Not a JPEG at all.
    let junk = b"definitely not a JPEG";
    let mut r = 0x10 as *mut jsec_fspe_report;
    // SAFETY: `junk` readable, valid out-pointer.
    let st = unsafe { jsec_fspe_inspect(junk.as_ptr(), junk.len(), &mut r) };
    assert_eq!(st, JSEC_ERR_MALFORMED);
    assert_eq!(r, 0x10 as *mut jsec_fspe_report);
    assert!(last_error().starts_with("jsec_fspe_inspect: "));
}

// ---------------------------------------------------------------------------
// Metadata privacy
// ---------------------------------------------------------------------------

/// Where the values of [`exif_jpeg`] sit in the file (absolute offsets).
mod exif_at {
    /// The APP1 marker (right after SOI).
    pub const SEGMENT: u64 = 2;
    /// Artist, ASCII, 10 bytes.
    pub const ARTIST: usize = 116;
    /// DateTime, ASCII, 20 bytes.
    pub const DATE: usize = 126;
    /// GPSLatitudeRef, ASCII, 2 bytes, inline in its entry.
    pub const LAT_REF: usize = 84;
    /// GPSLatitude, 3 RATIONALs, 24 bytes.
    pub const LAT: usize = 146;
    /// GPSVersionID, BYTE, 4 bytes, inline (not sensitive).
    pub const VERSION: usize = 72;
    /// GPSAltitude's offset points into IFD0's entries: never transformed.
    pub const ALTITUDE: u64 = 20;
}

/// A big-endian EXIF APP1 payload: IFD0 (Artist, DateTime, the GPS pointer)
/// and a GPS IFD (GPSVersionID, GPSLatitudeRef inline, GPSLatitude, and a
/// GPSAltitude whose value offset points into IFD0: unusable).
fn exif_payload() -> Vec<u8> {
    fn entry(t: &mut Vec<u8>, tag: u16, ty: u16, count: u32, value: [u8; 4]) {
        t.extend_from_slice(&tag.to_be_bytes());
        t.extend_from_slice(&ty.to_be_bytes());
        t.extend_from_slice(&count.to_be_bytes());
        t.extend_from_slice(&value);
    }
    let at = |o: u32| o.to_be_bytes();
    let mut t = b"MM\0\x2a\0\0\0\x08".to_vec();
    // IFD0 at 8: 3 entries, 8..50.
    t.extend_from_slice(&3u16.to_be_bytes());
    entry(&mut t, 0x013B, 2, 10, at(104));
    entry(&mut t, 0x0132, 2, 20, at(114));
    entry(&mut t, 0x8825, 4, 1, at(50));
    t.extend_from_slice(&0u32.to_be_bytes());
    // GPS IFD at 50: 4 entries, 50..104.
    t.extend_from_slice(&4u16.to_be_bytes());
    entry(&mut t, 0x0000, 1, 4, [2, 3, 0, 0]);
    entry(&mut t, 0x0001, 2, 2, *b"N\0\0\0");
    entry(&mut t, 0x0002, 5, 3, at(134));
    entry(&mut t, 0x0006, 5, 1, at(8));
    t.extend_from_slice(&0u32.to_be_bytes());
    assert_eq!(t.len(), 104);
    t.extend_from_slice(b"Jane Doe\0\0");
    t.extend_from_slice(b"2024:05:06 07:08:09\0");
    for x in [48u32, 1, 51, 1, 2400, 100] {
        t.extend_from_slice(&x.to_be_bytes());
    }
    assert_eq!(t.len(), 158);
    let mut p = b"Exif\0\0".to_vec();
    p.extend_from_slice(&t);
    p
}

/// A test JPEG with the [`exif_payload`] APP1 right after SOI.
fn exif_jpeg() -> Vec<u8> {
    let plain = test_jpeg(48, 32, None, None);
    let payload = exif_payload();
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&(payload.len() as u16 + 2).to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&plain[2..]);
    out
}

fn metadata_count(r: *const jsec_fspe_report) -> usize {
    let mut n = usize::MAX;
    // SAFETY: live report, valid out-pointer.
    let st = unsafe { jsec_fspe_report_metadata_count(r, &mut n) };
    assert_eq!(st, JSEC_OK, "{}", last_error());
    n
}

fn metadata_field(r: *const jsec_fspe_report, index: usize) -> jsec_fspe_metadata_field {
    let mut f = jsec_fspe_metadata_field {
        struct_size: size_of::<jsec_fspe_metadata_field>(),
        ..Default::default()
    };
    // SAFETY: live report, `f` is a whole struct with struct_size set.
    let st = unsafe { jsec_fspe_report_metadata_field(r, index, &mut f) };
    assert_eq!(st, JSEC_OK, "{}", last_error());
    f
}

/// A text getter's result, asking for the length first.
fn report_text(
    get: unsafe extern "C" fn(
        *const jsec_fspe_report,
        usize,
        *mut c_char,
        usize,
        *mut usize,
    ) -> jsec_status,
    r: *const jsec_fspe_report,
    index: usize,
) -> String {
    let mut n = usize::MAX;
    // SAFETY: live report; a size query (NULL, 0), then a buffer of the
    // reported size plus the NUL.
    unsafe {
        assert_eq!(
            get(r, index, ptr::null_mut(), 0, &mut n),
            JSEC_ERR_BUFFER_TOO_SMALL
        );
        let mut text = vec![0x55 as c_char; n + 1];
        let mut m = usize::MAX;
        assert_eq!(
            get(r, index, text.as_mut_ptr(), text.len(), &mut m),
            JSEC_OK
        );
        assert_eq!(m, n);
        CStr::from_ptr(text.as_ptr())
            .to_str()
            .expect("UTF-8")
            .to_owned()
    }
}

/// Encrypt or decrypt a copy of `data` with `key` at `level` and the metadata
/// `classes` (and `levels`); the result and its report.
fn metadata_run(
    data: &[u8],
    classes: u32,
    levels: bool,
    k: &[u8],
    level: u32,
    encrypt: bool,
) -> (Vec<u8>, *mut jsec_fspe_report) {
    let key = key(k);
    let o = options();
    // SAFETY: live builder.
    unsafe {
        assert_eq!(jsec_fspe_options_set_metadata(o, classes), JSEC_OK);
        assert_eq!(jsec_fspe_options_set_levels(o, levels), JSEC_OK);
    }
    let c = cipher(key, o, level);
    let mut buf = data.to_vec();
    let mut r = ptr::null_mut();
    // SAFETY: live cipher, `buf` readable/writable for its length, valid out-pointer.
    let st = unsafe {
        if encrypt {
            jsec_fspe_cipher_encrypt(c, buf.as_mut_ptr(), buf.len(), &mut r)
        } else {
            jsec_fspe_cipher_decrypt(c, buf.as_mut_ptr(), buf.len(), &mut r)
        }
    };
    assert_eq!(st, JSEC_OK, "{}", last_error());
    // SAFETY: handles made above, not used afterwards.
    unsafe {
        jsec_fspe_cipher_free(c);
        jsec_fspe_options_free(o);
        jsec_key_free(key);
    }
    (buf, r)
}

#[test]
fn metadata_privacy_through_the_c_functions() {
    use exif_at::*;
    let original = exif_jpeg();
    let master = [0x42u8; 32];
    let segment_end = 2 + 2 + 2 + exif_payload().len();

    // The setter: bits 1, 2, 4 and 0; anything else is refused and changes
    // nothing (checked below: GPS | IDENTITY stays selected).
    let o = options();
    // SAFETY: live builder.
    unsafe {
        for ok in [0, 1, 2, 4, 7, 3] {
            assert_eq!(jsec_fspe_options_set_metadata(o, ok), JSEC_OK);
        }
        for bad in [8, 9, 0x10, 0x8000_0000, u32::MAX] {
            assert_eq!(
                jsec_fspe_options_set_metadata(o, bad),
                JSEC_ERR_INVALID_ARGUMENT
            );
            assert!(
                last_error().starts_with("jsec_fspe_options_set_metadata: "),
                "{}",
                last_error()
            );
            assert!(last_error().contains("JSEC_FSPE_METADATA_"));
        }
    }
    let k = key(&master);
    let c = cipher(k, o, 0);
    let mut enc = original.clone();
    let mut r = ptr::null_mut();
    // SAFETY: live cipher, `enc` readable/writable, valid out-pointer.
    let st = unsafe { jsec_fspe_cipher_encrypt(c, enc.as_mut_ptr(), enc.len(), &mut r) };
    assert_eq!(st, JSEC_OK, "{}", last_error());
    // SAFETY: handles made above, not used afterwards.
    unsafe {
        jsec_fspe_cipher_free(c);
        jsec_fspe_options_free(o);
        jsec_key_free(k);
    }

    // Same size; the GPS and identity values changed, types kept; the date,
    // GPSVersionID and every structure byte are as they were.
    assert_eq!(enc.len(), original.len());
    let artist = ARTIST..ARTIST + 10;
    assert_ne!(enc[artist.clone()], original[artist.clone()]);
    assert!(enc[ARTIST..ARTIST + 8]
        .iter()
        .all(|b| (0x20..=0x7E).contains(b)));
    assert_eq!(enc[ARTIST + 8..ARTIST + 10], [0, 0]);
    assert_eq!(enc[DATE..DATE + 20], original[DATE..DATE + 20]);
    assert_eq!(enc[VERSION..VERSION + 4], [2, 3, 0, 0]);
    assert!((0x20..=0x7E).contains(&enc[LAT_REF]));
    assert_eq!(enc[LAT_REF + 1], 0);
    for (i, (e, o)) in enc[LAT..LAT + 24].iter().zip(&original[LAT..]).enumerate() {
        if i % 8 >= 4 {
            assert_eq!(e, o, "denominator byte {i}");
        }
    }
    assert_ne!(enc[LAT..LAT + 24], original[LAT..LAT + 24]);
    let changed: Vec<usize> = (0..segment_end)
        .filter(|&i| enc[i] != original[i])
        .collect();
    assert!(changed.iter().all(|&i| artist.contains(&i)
        || (LAT_REF..LAT_REF + 2).contains(&i)
        || (LAT..LAT + 24).contains(&i)));
    assert_ne!(enc[segment_end..], original[segment_end..]); // the image data too

    // The report lists every sensitive field in reading order.
    let expect = [
        // (offset, length, ifd, tag, sensitivity, name)
        (
            ARTIST as u64,
            10,
            jsec_fspe_ifd::Ifd0,
            0x013B,
            JSEC_FSPE_METADATA_IDENTITY,
            "Artist",
        ),
        (
            DATE as u64,
            20,
            jsec_fspe_ifd::Ifd0,
            0x0132,
            JSEC_FSPE_METADATA_DATES,
            "DateTime",
        ),
        (
            LAT_REF as u64,
            2,
            jsec_fspe_ifd::Gps,
            0x0001,
            JSEC_FSPE_METADATA_GPS,
            "GPSLatitudeRef",
        ),
        (
            LAT as u64,
            24,
            jsec_fspe_ifd::Gps,
            0x0002,
            JSEC_FSPE_METADATA_GPS,
            "GPSLatitude",
        ),
        (
            ALTITUDE,
            8,
            jsec_fspe_ifd::Gps,
            0x0006,
            JSEC_FSPE_METADATA_GPS,
            "GPSAltitude",
        ),
    ];
    let check_fields = |r: *const jsec_fspe_report, transformed: [bool; 5], problem: bool| {
        assert_eq!(metadata_count(r), expect.len());
        for (i, &(offset, length, ifd, tag, sensitivity, name)) in expect.iter().enumerate() {
            let f = metadata_field(r, i);
            assert_eq!(f.struct_size, size_of::<jsec_fspe_metadata_field>());
            assert_eq!(f.segment_offset, SEGMENT, "{name}");
            assert_eq!(f.offset, offset, "{name}");
            assert_eq!(f.length, length, "{name}");
            assert_eq!(f.ifd, ifd as u32, "{name}");
            assert_eq!(f.tag, tag, "{name}");
            assert_eq!(f.sensitivity, sensitivity, "{name}");
            assert_eq!(f.transformed, transformed[i], "{name}");
            assert_eq!(report_text(jsec_fspe_report_metadata_name, r, i), name);
            let text = report_text(jsec_fspe_report_metadata_problem, r, i);
            assert_eq!(f.problem_len as usize, text.len(), "{name}");
            assert_eq!(!text.is_empty(), problem && i == 4, "{name}: {text}");
        }
    };
    check_fields(r, [true, false, true, true, false], true);
    let problem = report_text(jsec_fspe_report_metadata_problem, r, 4);

    // Index, struct_size and buffer errors write nothing.
    let mut f = jsec_fspe_metadata_field {
        struct_size: size_of::<jsec_fspe_metadata_field>(),
        tag: 0xABCD,
        ..Default::default()
    };
    let mut n = 77usize;
    let mut tiny = [0x55 as c_char; 4];
    // SAFETY: live report; `f` a whole struct, `tiny` writable for 4 bytes.
    unsafe {
        assert_eq!(
            jsec_fspe_report_metadata_field(r, 5, &mut f),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert!(last_error().contains("metadata field index 5"));
        assert_eq!(
            jsec_fspe_report_metadata_field(r, 0, ptr::null_mut()),
            JSEC_ERR_INVALID_ARGUMENT
        );
        f.struct_size = size_of::<usize>() - 1;
        assert_eq!(
            jsec_fspe_report_metadata_field(r, 0, &mut f),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert!(last_error().contains("struct_size"));
        assert_eq!(f.tag, 0xABCD);
        // A caller built against a shorter struct: only its prefix is written.
        f.struct_size = offset_of!(jsec_fspe_metadata_field, tag);
        assert_eq!(jsec_fspe_report_metadata_field(r, 3, &mut f), JSEC_OK);
        assert_eq!((f.offset, f.length), (LAT as u64, 24));
        assert_eq!(f.ifd, jsec_fspe_ifd::Gps as u32);
        assert_eq!(f.tag, 0xABCD);
        assert_eq!(f.struct_size, offset_of!(jsec_fspe_metadata_field, tag));
        assert_eq!(
            jsec_fspe_report_metadata_count(r, ptr::null_mut()),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_report_metadata_name(r, 0, ptr::null_mut(), 0, ptr::null_mut()),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_report_metadata_name(r, 0, ptr::null_mut(), 8, &mut n),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_report_metadata_name(r, 5, tiny.as_mut_ptr(), 4, &mut n),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(n, 77);
        assert_eq!(
            jsec_fspe_report_metadata_name(r, 0, tiny.as_mut_ptr(), 4, &mut n),
            JSEC_ERR_BUFFER_TOO_SMALL
        );
        assert_eq!((n, tiny[0]), (6, 0x55));
        assert_eq!(
            jsec_fspe_report_metadata_problem(r, 5, tiny.as_mut_ptr(), 4, &mut n),
            JSEC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            jsec_fspe_report_metadata_problem(r, 0, tiny.as_mut_ptr(), 4, ptr::null_mut()),
            JSEC_ERR_INVALID_ARGUMENT
        );
        n = 77;
        assert_eq!(
            jsec_fspe_report_metadata_problem(r, 0, tiny.as_mut_ptr(), 4, &mut n),
            JSEC_OK
        );
        assert_eq!((n, tiny[0]), (0, 0));
        // The unusable selected field is also a warning naming its tag.
        assert_eq!(jsec_fspe_report_warning_count(r, &mut n), JSEC_OK);
        let mut named = false;
        for i in 0..n {
            let (mut off, mut len) = (0u64, 0usize);
            let mut text = [0 as c_char; 256];
            assert_eq!(
                jsec_fspe_report_warning(r, i, &mut off, text.as_mut_ptr(), 256, &mut len),
                JSEC_OK
            );
            let text = CStr::from_ptr(text.as_ptr()).to_string_lossy();
            named |= off == SEGMENT && text.contains("GPSAltitude");
        }
        assert!(named, "no warning names GPSAltitude");
        jsec_fspe_report_free(r);
    }
    assert!(problem.contains("overlaps"), "{problem}");

    // Decryption with the same classes restores every byte and reports the
    // same fields as transformed.
    let (dec, r) = metadata_run(
        &enc,
        JSEC_FSPE_METADATA_GPS | JSEC_FSPE_METADATA_IDENTITY,
        false,
        &master,
        0,
        false,
    );
    assert_eq!(dec, original);
    check_fields(r, [true, false, true, true, false], true);
    // SAFETY: handle made above.
    unsafe { jsec_fspe_report_free(r) };

    // Other classes: a different file, which those classes do not restore
    // (the selection is bound into the metadata IV).
    let (other, r) = metadata_run(&original, JSEC_FSPE_METADATA_DATES, false, &master, 0, true);
    assert_ne!(other[DATE..DATE + 20], original[DATE..DATE + 20]);
    assert_eq!(other[ARTIST..ARTIST + 10], original[ARTIST..ARTIST + 10]);
    check_fields(r, [false, true, false, false, false], false);
    // SAFETY: handle made above.
    unsafe { jsec_fspe_report_free(r) };
    let (wrong, r) = metadata_run(&enc, JSEC_FSPE_METADATA_GPS, false, &master, 0, false);
    assert_ne!(wrong, original);
    // SAFETY: handle made above.
    unsafe { jsec_fspe_report_free(r) };

    // The default (0): metadata untouched, fields still listed.
    let (plain_meta, r) = metadata_run(&original, 0, false, &master, 0, true);
    assert_eq!(plain_meta[..segment_end], original[..segment_end]);
    assert!(plain_meta[segment_end..] != original[segment_end..]);
    check_fields(r, [false; 5], false);
    // SAFETY: handle made above.
    unsafe { jsec_fspe_report_free(r) };

    // inspect lists the fields, transforms none.
    let mut r = ptr::null_mut();
    // SAFETY: `original` readable, valid out-pointer.
    let st = unsafe { jsec_fspe_inspect(original.as_ptr(), original.len(), &mut r) };
    assert_eq!(st, JSEC_OK, "{}", last_error());
    check_fields(r, [false; 5], false);
    // SAFETY: handle made above.
    unsafe { jsec_fspe_report_free(r) };

    // Multi-level: only the master key restores the metadata.
    let classes = JSEC_FSPE_METADATA_GPS | JSEC_FSPE_METADATA_IDENTITY;
    let (lenc, r) = metadata_run(&original, classes, true, &master, 0, true);
    // SAFETY: handle made above.
    unsafe { jsec_fspe_report_free(r) };
    let mut k1 = ptr::null();
    let mut k1_bytes = [0u8; 32];
    let k0 = key(&master);
    let mut hex = [0 as c_char; 65];
    let mut hex_len = 0;
    // SAFETY: live key, valid out-pointers and a 65-byte buffer.
    unsafe {
        assert_eq!(jsec_key_derive(k0, 1, &mut k1), JSEC_OK);
        assert_eq!(
            jsec_key_to_hex(k1, hex.as_mut_ptr(), hex.len(), &mut hex_len),
            JSEC_OK
        );
        let text = CStr::from_ptr(hex.as_ptr()).to_str().expect("hex");
        for (i, b) in k1_bytes.iter_mut().enumerate() {
            *b = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("hex digit");
        }
        jsec_key_free(k1);
        jsec_key_free(k0);
    }
    let (ldec, r) = metadata_run(&lenc, classes, true, &k1_bytes, 1, false);
    assert_eq!(ldec[ARTIST..ARTIST + 10], lenc[ARTIST..ARTIST + 10]);
    assert_eq!(ldec[LAT..LAT + 24], lenc[LAT..LAT + 24]);
    check_fields(r, [false; 5], true);
    // SAFETY: handle made above.
    unsafe { jsec_fspe_report_free(r) };
    let (ldec, r) = metadata_run(&lenc, classes, true, &master, 0, false);
    assert_eq!(ldec, original);
    // SAFETY: handle made above.
    unsafe { jsec_fspe_report_free(r) };
}

// ---------------------------------------------------------------------------
// The generated header
// ---------------------------------------------------------------------------

/// The header as build.rs generated it for this very build.
const HEADER: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/include/jsec.h"));

/// The FFI sources, to find every exported function.
const SOURCES: [&str; 10] = [
    include_str!("../src/ffi/boundary.rs"),
    include_str!("../src/ffi/version.rs"),
    include_str!("../src/ffi/key.rs"),
    include_str!("../src/ffi/options.rs"),
    include_str!("../src/ffi/cipher.rs"),
    include_str!("../src/ffi/report.rs"),
    include_str!("../src/ffi/stream.rs"),
    include_str!("../src/ffi/sign.rs"),
    include_str!("../src/ffi/j2k.rs"),
    include_str!("../src/ffi/jpsec.rs"),
];

fn exported_functions() -> Vec<&'static str> {
    let mut names = Vec::new();
    for src in SOURCES {
        let mut rest = src;
        while let Some(i) = rest.find("extern \"C\" fn ") {
            rest = &rest[i + "extern \"C\" fn ".len()..];
            let end = rest.find('(').expect("function name ends with (");
            names.push(&rest[..end]);
        }
    }
    names
}

#[test]
fn header_declares_every_function_with_jsec_api_and_docs() {
    let names = exported_functions();
    assert!(names.len() > 40, "found only {names:?}");
    // The header without its comments, where each declaration can be found.
    let mut code = String::new();
    let mut rest = HEADER;
    while let Some(i) = rest.find("/*") {
        code.push_str(&rest[..i]);
        let end = rest[i..].find("*/").expect("comment closed");
        rest = &rest[i + end + 2..];
    }
    code.push_str(rest);
    for name in &names {
        assert!(name.starts_with("jsec_"), "{name}");
        let at = [format!(" {name}("), format!("*{name}(")]
            .iter()
            .find_map(|d| code.find(d.as_str()))
            .unwrap_or_else(|| panic!("{name} missing from the header"));
        assert_eq!(
            code.matches(&format!("{name}(")).count(),
            1,
            "{name} declared twice"
        );
        let api = code[..at].rfind("JSEC_API").expect("JSEC_API");
        assert!(!code[api..at].contains(';'), "{name} lacks JSEC_API");
        // In the full header, a doc comment ends right before the declaration.
        let decl_start = HEADER
            .find(&format!(
                "JSEC_API{}",
                &code[api + "JSEC_API".len()..at + 1 + name.len()]
            ))
            .unwrap_or_else(|| panic!("{name}: declaration text"));
        assert!(
            HEADER[..decl_start].trim_end().ends_with("*/"),
            "{name} lacks a doc comment"
        );
    }
    // No other declarations: one JSEC_API per exported function (plus the
    // macro's own definition lines).
    let decls = HEADER.lines().filter(|l| l.starts_with("JSEC_API")).count();
    assert_eq!(decls, names.len());
    assert!(HEADER.contains("#ifndef JSEC_H\n#define JSEC_H"));
    assert!(HEADER.contains("#ifdef __cplusplus\nextern \"C\" {"));
    assert!(HEADER.contains("__attribute__((visibility(\"default\")))"));
    assert!(HEADER.contains("__declspec(dllexport)") && HEADER.contains("__declspec(dllimport)"));
}

#[test]
fn header_constants_match_the_library() {
    let define = |name: &str| -> String {
        let key = format!("#define {name} ");
        let line = HEADER
            .lines()
            .find(|l| l.starts_with(&key))
            .unwrap_or_else(|| panic!("{name} not defined"));
        line[key.len()..].trim().to_owned()
    };
    let component = |v: &str| v.parse::<u32>().expect("numeric version component");
    let (major, minor, patch) = (
        component(env!("CARGO_PKG_VERSION_MAJOR")),
        component(env!("CARGO_PKG_VERSION_MINOR")),
        component(env!("CARGO_PKG_VERSION_PATCH")),
    );
    assert_eq!(define("JSEC_VERSION_MAJOR"), major.to_string());
    assert_eq!(define("JSEC_VERSION_MINOR"), minor.to_string());
    assert_eq!(define("JSEC_VERSION_PATCH"), patch.to_string());
    assert_eq!(
        define("JSEC_VERSION_NUMBER"),
        (major * 1_000_000 + minor * 1_000 + patch).to_string()
    );
    assert_eq!(
        define("JSEC_VERSION_NUMBER"),
        jsec::ffi::version::jsec_version_number().to_string()
    );
    assert_eq!(
        define("JSEC_VERSION_STRING"),
        format!("\"{}\"", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(define("JSEC_ABI_VERSION"), "JSEC_VERSION_NUMBER");
    assert!(HEADER.starts_with(&format!("/*\n * jsec {}:", env!("CARGO_PKG_VERSION"))));
    // SAFETY: jsec_version returns a static NUL-terminated string.
    let v = unsafe { CStr::from_ptr(jsec::ffi::version::jsec_version()) };
    assert_eq!(v.to_str(), Ok(env!("CARGO_PKG_VERSION")));

    assert_eq!(define("JSEC_FSPE_BAND_DC"), JSEC_FSPE_BAND_DC.to_string());
    assert_eq!(
        define("JSEC_FSPE_BAND_AC_LOW"),
        JSEC_FSPE_BAND_AC_LOW.to_string()
    );
    assert_eq!(
        define("JSEC_FSPE_BAND_AC_HIGH"),
        JSEC_FSPE_BAND_AC_HIGH.to_string()
    );
    assert_eq!(
        define("JSEC_FSPE_NONCE_LEN"),
        JSEC_FSPE_NONCE_LEN.to_string()
    );
    assert_eq!(define("JSEC_FSPE_SEED_LEN"), JSEC_FSPE_SEED_LEN.to_string());
    for (name, value) in [
        ("JSEC_FSPE_METADATA_GPS", JSEC_FSPE_METADATA_GPS),
        ("JSEC_FSPE_METADATA_IDENTITY", JSEC_FSPE_METADATA_IDENTITY),
        ("JSEC_FSPE_METADATA_DATES", JSEC_FSPE_METADATA_DATES),
    ] {
        assert_eq!(define(name), value.to_string());
    }
    assert_eq!(
        (
            JSEC_FSPE_METADATA_GPS,
            JSEC_FSPE_METADATA_IDENTITY,
            JSEC_FSPE_METADATA_DATES
        ),
        (1, 2, 4)
    );
    assert_eq!(
        define("JSEC_KEY_HEX_CAPACITY"),
        JSEC_KEY_HEX_CAPACITY.to_string()
    );

    // Status constants are exactly JSEC_OK and JSEC_ERR_*, with their values.
    for status in jsec_status::ALL {
        let name = format!("{status:?}");
        assert!(
            HEADER.contains(&format!("    {name} = {},\n", status as c_int)),
            "{name}"
        );
    }
    assert!(!HEADER.contains("JSEC_STATUS_"));
    // Other enums are JSEC_<ENUM>_<VARIANT>.
    for (name, value) in [
        ("JSEC_FSPE_RULE_FULL", jsec_fspe_rule::Full as u32),
        ("JSEC_FSPE_RULE_PAPER", jsec_fspe_rule::Paper as u32),
        ("JSEC_FSPE_COMPONENTS_ALL", jsec_fspe_components::All as u32),
        (
            "JSEC_FSPE_COMPONENTS_LUMA",
            jsec_fspe_components::Luma as u32,
        ),
        (
            "JSEC_FSPE_COMPONENTS_CHROMA",
            jsec_fspe_components::Chroma as u32,
        ),
        (
            "JSEC_FSPE_DIRECTION_ENCRYPT",
            jsec_fspe_direction::Encrypt as u32,
        ),
        (
            "JSEC_FSPE_DIRECTION_DECRYPT",
            jsec_fspe_direction::Decrypt as u32,
        ),
        (
            "JSEC_FSPE_LOCATION_PRIMARY",
            jsec_fspe_location::Primary as u32,
        ),
        (
            "JSEC_FSPE_LOCATION_IN_SEGMENT",
            jsec_fspe_location::InSegment as u32,
        ),
        (
            "JSEC_FSPE_LOCATION_AFTER_EOI",
            jsec_fspe_location::AfterEoi as u32,
        ),
        ("JSEC_FSPE_IFD_IFD0", jsec_fspe_ifd::Ifd0 as u32),
        ("JSEC_FSPE_IFD_IFD1", jsec_fspe_ifd::Ifd1 as u32),
        ("JSEC_FSPE_IFD_EXIF", jsec_fspe_ifd::Exif as u32),
        ("JSEC_FSPE_IFD_GPS", jsec_fspe_ifd::Gps as u32),
    ] {
        assert!(
            HEADER.contains(&format!("    {name} = {value},\n")),
            "{name}"
        );
    }
}

#[test]
fn every_exported_body_runs_inside_the_panic_boundary() {
    // The helpers that call `boundary` themselves.
    let wrappers = ["boundary(", "with_options(", "in_place("];
    for helper in ["fn with_options(", "fn in_place("] {
        let src = SOURCES.iter().find(|s| s.contains(helper)).expect(helper);
        let body = &src[src.find(helper).expect(helper)..];
        let body = &body[..body.find("\n}\n").expect("end of fn")];
        assert!(
            body.contains("    boundary(function,"),
            "{helper} must use boundary"
        );
    }
    let mut checked = 0;
    for src in SOURCES {
        let mut rest = src;
        while let Some(i) = rest.find("extern \"C\" fn ") {
            rest = &rest[i..];
            let end = rest.find("\n}\n").expect("end of fn");
            let item = &rest[..end];
            let name = &item["extern \"C\" fn ".len()..item.find('(').expect("(")];
            let body = &item[item.find("{\n").expect("body")..];
            // The first statement of the body is the boundary call.
            let first = body[2..].trim_start();
            let first = first
                .strip_prefix("// SAFETY: forwarded contract.\n")
                .map_or(first, |f| {
                    f.trim_start()
                        .strip_prefix("unsafe {")
                        .unwrap_or(f)
                        .trim_start()
                });
            assert!(
                wrappers.iter().any(|w| first.starts_with(w)),
                "{name} does not start with the panic boundary: {first:.60}"
            );
            checked += 1;
            rest = &rest[end..];
        }
    }
    assert_eq!(checked, exported_functions().len());
}

#[test]
fn caller_structs_list_every_field() {
    use jsec::ffi::boundary::SizedStruct;
    // The fields after struct_size are listed in order, end to end with only
    // alignment padding between them, and the last one ends the struct.
    fn check<T: SizedStruct>(fields: usize) {
        let ends = T::field_ends();
        assert_eq!(ends.len(), fields);
        assert!(ends.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(ends.last().copied(), Some(size_of::<T>()));
    }
    check::<jsec_fspe_image_info>(16);
    check::<jsec_fspe_bit_stats>(5);
    check::<jsec_fspe_metadata_field>(8);
    check::<jsec::ffi::sign::jsec_sign_verification>(14);
    check::<jsec::ffi::j2k::jsec_j2k_packet>(16);
    check::<jsec::ffi::j2k::jsec_j2k_contribution>(4);
    check::<jsec::ffi::jpsec::jsec_jpsec_tool_report>(13);
    // These end in alignment padding, which C has too: the padding is
    // stated so that a field added at the end cannot hide in it.
    fn check_padded<T: SizedStruct>(fields: usize, padding: usize) {
        let ends = T::field_ends();
        assert_eq!(ends.len(), fields);
        assert!(ends.windows(2).all(|w| w[0] < w[1]));
        assert!(padding < std::mem::align_of::<T>());
        assert_eq!(ends.last().copied(), Some(size_of::<T>() - padding));
    }
    check_padded::<jsec::ffi::jpsec::jsec_jpsec_unit_report>(3, 3);
    check_padded::<jsec::ffi::jpsec::jsec_jpsec_packet_id>(5, 4);
}

// ---------------------------------------------------------------------------
// JPSEC
// ---------------------------------------------------------------------------

mod jpsec_abi {
    use super::*;
    use jsec::crypto::mac::HashAlg;
    use jsec::crypto::modes::Mode;
    use jsec::ffi::j2k::*;
    use jsec::ffi::jpsec::*;
    use jsec::ffi::sign::{jsec_buffer, jsec_buffer_data, jsec_buffer_free};
    use jsec::jpsec::Granularity;

    const K0: [u8; 32] = [0x5a; 32];
    const IV: [u8; 16] = [3; 16];

    fn define(name: &str) -> String {
        let key = format!("#define {name} ");
        let line = HEADER
            .lines()
            .find(|l| l.starts_with(&key))
            .unwrap_or_else(|| panic!("{name} not defined"));
        line[key.len()..].trim().to_owned()
    }

    fn bytes(b: *mut jsec_buffer) -> Vec<u8> {
        let mut d = ptr::null();
        let mut n = 0;
        // SAFETY: a live buffer and valid out-pointers.
        assert_eq!(unsafe { jsec_buffer_data(b, &mut d, &mut n) }, JSEC_OK);
        // SAFETY: jsec_buffer_data gives `n` readable bytes at `d`.
        unsafe { std::slice::from_raw_parts(d, n) }.to_vec()
    }

    #[test]
    fn jpsec_constants_match_the_header_and_the_file_format() {
        // The enumerations are C enums (JSEC_<ENUM>_<VARIANT>, the names the
        // earlier #defines had, with the same values), not macros.
        let enums: [(&str, u32); 32] = [
            ("JSEC_JPSEC_MODE_ECB", jsec_jpsec_mode::Ecb as u32),
            ("JSEC_JPSEC_MODE_CBC", jsec_jpsec_mode::Cbc as u32),
            ("JSEC_JPSEC_MODE_CFB", jsec_jpsec_mode::Cfb as u32),
            ("JSEC_JPSEC_MODE_OFB", jsec_jpsec_mode::Ofb as u32),
            ("JSEC_JPSEC_MODE_CTR", jsec_jpsec_mode::Ctr as u32),
            ("JSEC_JPSEC_ACCESS_SINGLE", jsec_jpsec_access::Single as u32),
            (
                "JSEC_JPSEC_ACCESS_RESOLUTION",
                jsec_jpsec_access::Resolution as u32,
            ),
            ("JSEC_JPSEC_ACCESS_LAYER", jsec_jpsec_access::Layer as u32),
            (
                "JSEC_JPSEC_GRANULARITY_TILE",
                jsec_jpsec_granularity::Tile as u32,
            ),
            (
                "JSEC_JPSEC_GRANULARITY_RESOLUTION",
                jsec_jpsec_granularity::Resolution as u32,
            ),
            (
                "JSEC_JPSEC_GRANULARITY_LAYER",
                jsec_jpsec_granularity::Layer as u32,
            ),
            (
                "JSEC_JPSEC_GRANULARITY_COMPONENT",
                jsec_jpsec_granularity::Component as u32,
            ),
            (
                "JSEC_JPSEC_GRANULARITY_PRECINCT",
                jsec_jpsec_granularity::Precinct as u32,
            ),
            (
                "JSEC_JPSEC_GRANULARITY_PACKET",
                jsec_jpsec_granularity::Packet as u32,
            ),
            (
                "JSEC_JPSEC_MAC_HMAC_SHA256",
                jsec_jpsec_mac::HmacSha256 as u32,
            ),
            ("JSEC_JPSEC_MAC_HMAC_SHA1", jsec_jpsec_mac::HmacSha1 as u32),
            (
                "JSEC_JPSEC_MAC_HMAC_RIPEMD160",
                jsec_jpsec_mac::HmacRipemd160 as u32,
            ),
            (
                "JSEC_JPSEC_MAC_CBC_MAC_AES",
                jsec_jpsec_mac::CbcMacAes as u32,
            ),
            ("JSEC_JPSEC_HASH_SHA1", jsec_jpsec_hash::Sha1 as u32),
            (
                "JSEC_JPSEC_HASH_RIPEMD160",
                jsec_jpsec_hash::Ripemd160 as u32,
            ),
            ("JSEC_JPSEC_HASH_SHA256", jsec_jpsec_hash::Sha256 as u32),
            (
                "JSEC_JPSEC_SIGNATURE_RSA_PKCS1V15",
                jsec_jpsec_signature::RsaPkcs1v15 as u32,
            ),
            (
                "JSEC_JPSEC_SIGNATURE_RSA_PSS",
                jsec_jpsec_signature::RsaPss as u32,
            ),
            (
                "JSEC_JPSEC_SIGNATURE_ECDSA_P256",
                jsec_jpsec_signature::EcdsaP256 as u32,
            ),
            (
                "JSEC_JPSEC_UNIT_STATUS_VERIFIED",
                jsec_jpsec_unit_status::Verified as u32,
            ),
            (
                "JSEC_JPSEC_UNIT_STATUS_FAILED",
                jsec_jpsec_unit_status::Failed as u32,
            ),
            (
                "JSEC_JPSEC_UNIT_STATUS_DECRYPTED",
                jsec_jpsec_unit_status::Decrypted as u32,
            ),
            (
                "JSEC_JPSEC_UNIT_STATUS_LOCKED",
                jsec_jpsec_unit_status::Locked as u32,
            ),
            (
                "JSEC_JPSEC_UNIT_STATUS_INCOMPLETE",
                jsec_jpsec_unit_status::Incomplete as u32,
            ),
            (
                "JSEC_JPSEC_UNIT_STATUS_ABSENT",
                jsec_jpsec_unit_status::Absent as u32,
            ),
            (
                "JSEC_JPSEC_UNIT_STATUS_OPENED",
                jsec_jpsec_unit_status::Opened as u32,
            ),
            (
                "JSEC_JPSEC_UNIT_STATUS_UNCHECKED",
                jsec_jpsec_unit_status::Unchecked as u32,
            ),
        ];
        // The values the API had as #defines: ABI, never renumbered.
        let abi = [
            1, 2, 3, 4, 5, 0, 1, 2, 1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 1, 3, 7, 1, 2, 3, 1, 2, 3, 4, 5,
            6, 7, 8,
        ];
        for ((name, value), want) in enums.into_iter().zip(abi) {
            assert_eq!(value, want, "{name}");
            assert!(
                HEADER.contains(&format!("    {name} = {value},\n")),
                "{name} is not an enum constant of the header"
            );
            assert!(!HEADER.contains(&format!("#define {name} ")), "{name}");
        }
        for e in [
            "jsec_jpsec_mode",
            "jsec_jpsec_access",
            "jsec_jpsec_granularity",
            "jsec_jpsec_mac",
            "jsec_jpsec_hash",
            "jsec_jpsec_signature",
            "jsec_jpsec_unit_status",
        ] {
            assert!(
                HEADER.contains(&format!("typedef enum {e} {{"))
                    && HEADER.contains(&format!("}} {e};")),
                "{e}"
            );
        }
        // Sizes stay #defines.
        assert_eq!(define("JSEC_JPSEC_IV_LEN"), JSEC_JPSEC_IV_LEN.to_string());
        assert_eq!(
            define("JSEC_JPSEC_TEXT_LEN"),
            JSEC_JPSEC_TEXT_LEN.to_string()
        );
        assert_eq!(
            define("JSEC_JPSEC_ZONE_LEN"),
            JSEC_JPSEC_ZONE_LEN.to_string()
        );
        // The mode, hash and granularity values are the file format's codes.
        let modes = [
            jsec_jpsec_mode::Ecb,
            jsec_jpsec_mode::Cbc,
            jsec_jpsec_mode::Cfb,
            jsec_jpsec_mode::Ofb,
            jsec_jpsec_mode::Ctr,
        ];
        for (m, c) in Mode::ALL.iter().zip(modes) {
            assert_eq!(u32::from(m.code()), c as u32);
        }
        for (h, c) in HashAlg::ALL.iter().zip([
            jsec_jpsec_hash::Sha1,
            jsec_jpsec_hash::Ripemd160,
            jsec_jpsec_hash::Sha256,
        ]) {
            assert_eq!(u32::from(h.id()), c as u32);
        }
        for (g, c) in [
            (Granularity::Tile, jsec_jpsec_granularity::Tile),
            (Granularity::Resolution, jsec_jpsec_granularity::Resolution),
            (Granularity::Layer, jsec_jpsec_granularity::Layer),
            (Granularity::Component, jsec_jpsec_granularity::Component),
            (Granularity::Precinct, jsec_jpsec_granularity::Precinct),
            (Granularity::Packet, jsec_jpsec_granularity::Packet),
        ] {
            assert_eq!(g as u32, c as u32);
        }
    }

    #[test]
    fn jpsec_policy_modifiers_check_their_tool_and_values() {
        let mut p = ptr::null_mut();
        // SAFETY: valid out-pointer; then a live, unshared builder throughout.
        unsafe {
            assert_eq!(jsec_jpsec_policy_new(&mut p), JSEC_OK);
            assert_eq!(
                jsec_jpsec_policy_set_levels(p, jsec_jpsec_access::Layer as u32, 0),
                JSEC_ERR_INVALID_STATE
            );
            assert_eq!(
                jsec_jpsec_policy_add_encryption(p, K0.as_ptr(), 32, 7, true),
                JSEC_ERR_INVALID_ARGUMENT
            );
            assert!(last_error().contains("mode 7"), "{}", last_error());
            assert_eq!(
                jsec_jpsec_policy_add_encryption(p, K0.as_ptr(), 32, u32::MAX, true),
                JSEC_ERR_INVALID_ARGUMENT
            );
            assert_eq!(
                jsec_jpsec_policy_add_encryption(
                    p,
                    K0.as_ptr(),
                    32,
                    jsec_jpsec_mode::Ctr as u32,
                    true
                ),
                JSEC_OK
            );
            assert_eq!(
                jsec_jpsec_policy_set_levels(p, 3, 0),
                JSEC_ERR_INVALID_ARGUMENT
            );
            assert_eq!(
                jsec_jpsec_policy_set_levels(p, jsec_jpsec_access::Resolution as u32, 2),
                JSEC_OK
            );
            assert_eq!(
                jsec_jpsec_policy_add_hash(p, jsec_jpsec_hash::Sha256 as u32, 0),
                JSEC_ERR_INVALID_ARGUMENT
            );
            assert_eq!(
                jsec_jpsec_policy_add_hash(
                    p,
                    jsec_jpsec_hash::Sha256 as u32,
                    jsec_jpsec_granularity::Layer as u32
                ),
                JSEC_OK
            );
            assert_eq!(
                jsec_jpsec_policy_set_region(p, 0, 0, 1, 1, false),
                JSEC_ERR_INVALID_STATE
            );
            assert_eq!(
                jsec_jpsec_policy_set_levels(p, jsec_jpsec_access::Resolution as u32, 2),
                JSEC_ERR_INVALID_STATE
            );
            assert_eq!(
                jsec_jpsec_policy_set_layers(p, 1, 0),
                JSEC_ERR_INVALID_ARGUMENT
            );
            assert_eq!(jsec_jpsec_policy_set_layers(p, 0, 1), JSEC_OK);
            assert_eq!(jsec_jpsec_policy_set_iv(p, IV.as_ptr(), 16), JSEC_OK);
            assert_eq!(
                jsec_jpsec_policy_set_iv(p, IV.as_ptr(), 8),
                JSEC_ERR_INVALID_ARGUMENT
            );
            jsec_jpsec_policy_free(p);
            jsec_jpsec_policy_free(ptr::null_mut());
        }
    }

    #[test]
    fn jpsec_packet_encryption_and_layout_zone_modifiers() {
        let mut p = ptr::null_mut();
        let ranges: [u32; 4] = [0, 3, 7, 9];
        let reversed: [u32; 2] = [4, 2];
        let empty_bytes: [u32; 4] = [0, 10, 50, 0];
        // Unaligned pairs are read as they are.
        let mut raw = [0u8; 20];
        let at = (0..4)
            .find(|o| (raw.as_ptr() as usize + o) % 4 == 1)
            .expect("an odd offset");
        for (i, v) in ranges.iter().enumerate() {
            raw[at + 4 * i..at + 4 + 4 * i].copy_from_slice(&v.to_ne_bytes());
        }
        let unaligned = raw[at..].as_ptr().cast::<u32>();
        // SAFETY: valid out-pointer; then a live, unshared builder and
        // buffers of the lengths passed throughout.
        unsafe {
            assert_eq!(jsec_jpsec_policy_new(&mut p), JSEC_OK);
            // No tool yet.
            assert_eq!(
                jsec_jpsec_policy_set_precincts(p, 0, 0),
                JSEC_ERR_INVALID_STATE
            );
            assert_eq!(
                jsec_jpsec_policy_set_packets(p, ranges.as_ptr(), 2),
                JSEC_ERR_INVALID_STATE
            );
            assert_eq!(
                jsec_jpsec_policy_set_bytes(p, ranges.as_ptr(), 2),
                JSEC_ERR_INVALID_STATE
            );
            // Whole-packet encryption: keys and modes (any mode).
            assert_eq!(
                jsec_jpsec_policy_add_packet_encryption(
                    p,
                    K0.as_ptr(),
                    20,
                    jsec_jpsec_mode::Ctr as u32
                ),
                JSEC_ERR_BAD_KEY
            );
            assert_eq!(
                jsec_jpsec_policy_add_packet_encryption(p, K0.as_ptr(), 32, 0),
                JSEC_ERR_INVALID_ARGUMENT
            );
            assert!(last_error().contains("mode 0"), "{}", last_error());
            assert_eq!(
                jsec_jpsec_policy_add_packet_encryption(
                    ptr::null_mut(),
                    K0.as_ptr(),
                    32,
                    jsec_jpsec_mode::Ctr as u32
                ),
                JSEC_ERR_INVALID_ARGUMENT
            );
            assert_eq!(
                jsec_jpsec_policy_add_packet_encryption(
                    p,
                    ptr::null(),
                    32,
                    jsec_jpsec_mode::Ctr as u32
                ),
                JSEC_ERR_INVALID_ARGUMENT
            );
            assert_eq!(
                jsec_jpsec_policy_add_packet_encryption(
                    p,
                    K0.as_ptr(),
                    16,
                    jsec_jpsec_mode::Ecb as u32
                ),
                JSEC_OK
            );
            // Levels and zones apply to it, a region does not.
            assert_eq!(
                jsec_jpsec_policy_set_levels(p, jsec_jpsec_access::Resolution as u32, 0),
                JSEC_OK
            );
            assert_eq!(
                jsec_jpsec_policy_set_region(p, 0, 0, 8, 8, false),
                JSEC_ERR_INVALID_STATE
            );
            assert!(last_error().contains("whole-packet"), "{}", last_error());
            assert_eq!(jsec_jpsec_policy_set_resolutions(p, 0, 1), JSEC_OK);
            // Precincts.
            assert_eq!(
                jsec_jpsec_policy_set_precincts(p, 2, 1),
                JSEC_ERR_INVALID_ARGUMENT
            );
            assert_eq!(jsec_jpsec_policy_set_precincts(p, 1, 2), JSEC_OK);
            assert_eq!(
                jsec_jpsec_policy_set_precincts(ptr::null_mut(), 0, 0),
                JSEC_ERR_INVALID_ARGUMENT
            );
            // Packet ranges.
            assert_eq!(
                jsec_jpsec_policy_set_packets(p, ptr::null(), 1),
                JSEC_ERR_INVALID_ARGUMENT
            );
            assert!(last_error().contains("ranges"), "{}", last_error());
            assert_eq!(
                jsec_jpsec_policy_set_packets(p, ranges.as_ptr(), 0),
                JSEC_ERR_INVALID_ARGUMENT
            );
            assert_eq!(
                jsec_jpsec_policy_set_packets(p, reversed.as_ptr(), 1),
                JSEC_ERR_INVALID_ARGUMENT
            );
            assert!(last_error().contains("pair 0"), "{}", last_error());
            assert_eq!(
                jsec_jpsec_policy_set_packets(p, ranges.as_ptr(), 2),
                JSEC_OK
            );
            assert_eq!(jsec_jpsec_policy_set_packets(p, unaligned, 2), JSEC_OK);
            assert_eq!(jsec_jpsec_policy_set_packets(p, ptr::null(), 0), JSEC_OK);
            assert_eq!(
                jsec_jpsec_policy_set_packets(ptr::null_mut(), ptr::null(), 0),
                JSEC_ERR_INVALID_ARGUMENT
            );
            // Byte ranges: a length of 0 meets nothing.
            assert_eq!(
                jsec_jpsec_policy_set_bytes(p, ptr::null(), 2),
                JSEC_ERR_INVALID_ARGUMENT
            );
            assert_eq!(
                jsec_jpsec_policy_set_bytes(p, ranges.as_ptr(), 0),
                JSEC_ERR_INVALID_ARGUMENT
            );
            assert_eq!(
                jsec_jpsec_policy_set_bytes(p, empty_bytes.as_ptr(), 2),
                JSEC_ERR_INVALID_ARGUMENT
            );
            assert!(last_error().contains("pair 1"), "{}", last_error());
            assert_eq!(jsec_jpsec_policy_set_bytes(p, ranges.as_ptr(), 2), JSEC_OK);
            assert_eq!(jsec_jpsec_policy_set_bytes(p, ptr::null(), 0), JSEC_OK);
            // A content identification takes no zone.
            assert_eq!(
                jsec_jpsec_policy_add_content_id(p, c"id".as_ptr(), c"".as_ptr()),
                JSEC_OK
            );
            assert_eq!(
                jsec_jpsec_policy_set_precincts(p, 0, 0),
                JSEC_ERR_INVALID_STATE
            );
            assert_eq!(
                jsec_jpsec_policy_set_packets(p, ranges.as_ptr(), 1),
                JSEC_ERR_INVALID_STATE
            );
            assert_eq!(
                jsec_jpsec_policy_set_bytes(p, ranges.as_ptr(), 1),
                JSEC_ERR_INVALID_STATE
            );
            jsec_jpsec_policy_free(p);
        }
    }

    /// Whole-packet encryption after a MAC, and precinct / packet / byte
    /// zones, on a corpus codestream with several precincts (the C test
    /// test_jpsec does this on generated input).
    #[test]
    fn jpsec_packet_encryption_and_layout_zones_round_trip() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/corpus/generated/j2k/c1024-RPCL-sop-eph-prec-t512.j2k"
        );
        let Ok(orig) = std::fs::read(path) else {
            eprintln!("{path} absent: skipped");
            return;
        };
        let protect = |build: &dyn Fn(*mut jsec_jpsec_policy)| -> Result<Vec<u8>, jsec_status> {
            let mut p = ptr::null_mut();
            let mut out = ptr::null_mut();
            // SAFETY: valid pointers; handles freed here.
            unsafe {
                assert_eq!(jsec_jpsec_policy_new(&mut p), JSEC_OK);
                build(p);
                assert_eq!(jsec_jpsec_policy_set_iv(p, IV.as_ptr(), 16), JSEC_OK);
                let st = jsec_jpsec_protect(p, orig.as_ptr(), orig.len(), &mut out);
                jsec_jpsec_policy_free(p);
                if st != JSEC_OK {
                    return Err(st);
                }
                let b = bytes(out);
                jsec_buffer_free(out);
                Ok(b)
            }
        };
        let consume = |data: &[u8], key: Option<&[u8]>| -> (Vec<u8>, Vec<jsec_jpsec_tool_report>) {
            let mut keys = ptr::null_mut();
            let mut out = ptr::null_mut();
            let mut rep = ptr::null();
            // SAFETY: valid pointers; handles freed here.
            unsafe {
                assert_eq!(jsec_jpsec_keys_new(&mut keys), JSEC_OK);
                if let Some(k) = key {
                    assert_eq!(jsec_jpsec_keys_add(keys, k.as_ptr(), k.len()), JSEC_OK);
                }
                assert_eq!(
                    jsec_jpsec_consume(data.as_ptr(), data.len(), keys, &mut out, &mut rep),
                    JSEC_OK,
                    "{}",
                    last_error()
                );
                let mut n = 0;
                assert_eq!(jsec_jpsec_report_tool_count(rep, &mut n), JSEC_OK);
                let tools = (0..n)
                    .map(|i| {
                        let mut t = jsec_jpsec_tool_report::default();
                        assert_eq!(jsec_jpsec_report_tool(rep, i, &mut t), JSEC_OK);
                        t
                    })
                    .collect();
                let b = bytes(out);
                jsec_buffer_free(out);
                jsec_jpsec_report_free(rep);
                jsec_jpsec_keys_free(keys);
                (b, tools)
            }
        };
        // The packets of the original, from the index.
        let packets: Vec<jsec_j2k_packet> = {
            let mut ix = ptr::null();
            let mut n = 0;
            // SAFETY: valid pointers; the index is freed here.
            unsafe {
                assert_eq!(
                    jsec_j2k_index_new(orig.as_ptr(), orig.len(), &mut ix),
                    JSEC_OK
                );
                assert_eq!(
                    jsec_j2k_index_packet_count(ix, &mut n, ptr::null_mut()),
                    JSEC_OK
                );
                let v = (0..n)
                    .map(|i| {
                        let mut pk = jsec_j2k_packet {
                            struct_size: size_of::<jsec_j2k_packet>(),
                            ..Default::default()
                        };
                        assert_eq!(jsec_j2k_index_packet(ix, i, &mut pk), JSEC_OK);
                        pk
                    })
                    .collect();
                jsec_j2k_index_free(ix);
                v
            }
        };
        assert!(packets.iter().any(|p| p.precinct > 0), "one precinct only");

        // MAC, then whole packets by resolution: k0 gives the original.
        let prot = protect(&|p| unsafe {
            // SAFETY: a live builder.
            assert_eq!(
                jsec_jpsec_policy_add_mac(
                    p,
                    K0.as_ptr(),
                    32,
                    jsec_jpsec_mac::HmacSha256 as u32,
                    jsec_jpsec_granularity::Resolution as u32
                ),
                JSEC_OK
            );
            assert_eq!(
                jsec_jpsec_policy_add_packet_encryption(
                    p,
                    K0.as_ptr(),
                    32,
                    jsec_jpsec_mode::Cbc as u32
                ),
                JSEC_OK
            );
            assert_eq!(
                jsec_jpsec_policy_set_levels(p, jsec_jpsec_access::Resolution as u32, 0),
                JSEC_OK
            );
        })
        .expect("protect");
        let (out, tools) = consume(&prot, Some(&K0));
        assert!(out == orig, "k0 does not give the original bytes");
        assert_eq!(tools.len(), 2);
        assert_eq!(tools[1].decrypted, packets.len());
        // Another tool after it: refused.
        let st = protect(&|p| unsafe {
            // SAFETY: a live builder.
            assert_eq!(
                jsec_jpsec_policy_add_packet_encryption(
                    p,
                    K0.as_ptr(),
                    32,
                    jsec_jpsec_mode::Ctr as u32
                ),
                JSEC_OK
            );
            assert_eq!(
                jsec_jpsec_policy_add_hash(
                    p,
                    jsec_jpsec_hash::Sha256 as u32,
                    jsec_jpsec_granularity::Tile as u32
                ),
                JSEC_OK
            );
        });
        assert_eq!(st, Err(JSEC_ERR_INVALID_ARGUMENT));
        assert!(
            last_error().contains("after every other tool"),
            "{}",
            last_error()
        );

        // Precincts 1 to 2, packets 0-3 and 7-9 of each tile, two byte
        // ranges: each tool covers exactly its packets (with a body).
        let first_sot = packets.iter().map(|p| p.offset).min().unwrap();
        let first_sot = orig[..first_sot as usize]
            .windows(2)
            .rposition(|w| w == [0xFF, 0x90])
            .map(|i| i as u64)
            .expect("an SOT before the first packet");
        let span = |p: &jsec_j2k_packet| {
            let o = p.body_offset - first_sot;
            (o, o + p.body_length)
        };
        let (b0, b1) = (span(&packets[3]), span(&packets[packets.len() / 2]));
        let byte_ranges = [b0.0 as u32, 1, b1.0 as u32, (b1.1 - b1.0) as u32];
        let prot = protect(&|p| unsafe {
            // SAFETY: a live builder; arrays of the lengths passed.
            let add = || {
                assert_eq!(
                    jsec_jpsec_policy_add_encryption(
                        p,
                        K0.as_ptr(),
                        32,
                        jsec_jpsec_mode::Ctr as u32,
                        true
                    ),
                    JSEC_OK
                )
            };
            add();
            assert_eq!(jsec_jpsec_policy_set_precincts(p, 1, 2), JSEC_OK);
            add();
            assert_eq!(
                jsec_jpsec_policy_set_packets(p, [0, 3, 7, 9].as_ptr(), 2),
                JSEC_OK
            );
            add();
            assert_eq!(
                jsec_jpsec_policy_set_bytes(p, byte_ranges.as_ptr(), 2),
                JSEC_OK
            );
        })
        .expect("protect");
        let (out, tools) = consume(&prot, Some(&K0));
        assert!(out == orig, "k0 does not give the original bytes");
        let with_body = |f: &dyn Fn(&jsec_j2k_packet) -> bool| {
            packets.iter().filter(|p| p.body_length > 0 && f(p)).count()
        };
        let want = [
            with_body(&|p| (1..=2).contains(&p.precinct)),
            with_body(&|p| (0..=3).contains(&p.seq) || (7..=9).contains(&p.seq)),
            with_body(&|p| {
                let (s, e) = span(p);
                (s < b0.0 + 1 && b0.0 < e) || (s < b1.1 && b1.0 < e)
            }),
        ];
        for (i, w) in want.into_iter().enumerate() {
            assert!(w > 0 && w < packets.len(), "zone {i}: {w} packets");
            assert_eq!(tools[i].units, w, "zone {i}");
            assert_eq!(tools[i].decrypted, w, "zone {i}");
        }
    }

    #[test]
    fn jpsec_derive_key_and_packet_hook() {
        let mut k1 = [0u8; 32];
        let mut k2 = [0u8; 32];
        let mut k2b = [0u8; 32];
        // SAFETY: valid buffers of the lengths passed.
        unsafe {
            assert_eq!(
                jsec_jpsec_derive_key(K0.as_ptr(), 32, 1, k1.as_mut_ptr(), 32),
                JSEC_OK
            );
            assert_eq!(
                jsec_jpsec_derive_key(K0.as_ptr(), 32, 2, k2.as_mut_ptr(), 32),
                JSEC_OK
            );
            assert_eq!(
                jsec_jpsec_derive_key(k1.as_ptr(), 32, 1, k2b.as_mut_ptr(), 32),
                JSEC_OK
            );
            assert_eq!(
                jsec_jpsec_derive_key(K0.as_ptr(), 32, 1, k1.as_mut_ptr(), 31),
                JSEC_ERR_BUFFER_TOO_SMALL
            );
        }
        assert_eq!(k2, k2b);
        let key0 = jsec::jpsec::JpsecKey::from_bytes(&K0).expect("key");
        assert_eq!(key0.derive(2).as_bytes(), &k2);

        // k0 protects, k1 (level 1 of 3 by resolution) opens resolutions 0
        // and 1 only.
        let mut pp0 = ptr::null();
        let mut pp1 = ptr::null();
        // SAFETY: valid buffers and out-pointers.
        unsafe {
            assert_eq!(
                jsec_jpsec_packet_protector_new(
                    K0.as_ptr(),
                    32,
                    0,
                    jsec_jpsec_access::Resolution as u32,
                    3,
                    jsec_jpsec_mode::Ctr as u32,
                    true,
                    IV.as_ptr(),
                    16,
                    &mut pp0,
                ),
                JSEC_OK
            );
            assert_eq!(
                jsec_jpsec_packet_protector_new(
                    k1.as_ptr(),
                    32,
                    1,
                    jsec_jpsec_access::Resolution as u32,
                    3,
                    jsec_jpsec_mode::Ctr as u32,
                    true,
                    IV.as_ptr(),
                    16,
                    &mut pp1,
                ),
                JSEC_OK
            );
        }
        for resolution in 0..3u8 {
            let id = jsec_jpsec_packet_id {
                struct_size: size_of::<jsec_jpsec_packet_id>(),
                tile: 0,
                layer: 1,
                resolution,
                component: 2,
                precinct: 0,
            };
            let plain: Vec<u8> = (0..200u32).map(|i| (i * 7 % 251) as u8).collect();
            let mut body = plain.clone();
            // SAFETY: live protectors, a whole id, a writable body.
            unsafe {
                assert_eq!(
                    jsec_jpsec_packet_protect(pp0, &id, body.as_mut_ptr(), body.len()),
                    JSEC_OK
                );
                assert_ne!(body, plain);
                let enc = body.clone();
                let st = jsec_jpsec_packet_unprotect(pp1, &id, body.as_mut_ptr(), body.len());
                if resolution < 2 {
                    assert_eq!(st, JSEC_OK);
                    assert_eq!(body, plain);
                } else {
                    assert_eq!(st, JSEC_ERR_BAD_KEY);
                    assert_eq!(body, enc, "unchanged on failure");
                }
            }
        }
        // SAFETY: handles made above.
        unsafe {
            jsec_jpsec_packet_protector_free(pp0);
            jsec_jpsec_packet_protector_free(pp1);
        }
    }

    /// A corpus codestream through protect / consume, when the shared corpus
    /// is present (the C test test_jpsec does this on generated input).
    #[test]
    fn jpsec_round_trip_and_tamper_through_the_abi() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/corpus/generated/j2k/c1024-LRCP-n6-3L.j2k"
        );
        let Ok(orig) = std::fs::read(path) else {
            eprintln!("{path} absent: skipped");
            return;
        };
        let mut p = ptr::null_mut();
        let mut prot = ptr::null_mut();
        let mut keys = ptr::null_mut();
        // SAFETY: valid pointers throughout; handles used while live.
        unsafe {
            assert_eq!(jsec_jpsec_policy_new(&mut p), JSEC_OK);
            assert_eq!(
                jsec_jpsec_policy_add_encryption(
                    p,
                    K0.as_ptr(),
                    32,
                    jsec_jpsec_mode::Ctr as u32,
                    true
                ),
                JSEC_OK
            );
            assert_eq!(
                jsec_jpsec_policy_set_levels(p, jsec_jpsec_access::Resolution as u32, 0),
                JSEC_OK
            );
            assert_eq!(
                jsec_jpsec_policy_add_hash(
                    p,
                    jsec_jpsec_hash::Sha256 as u32,
                    jsec_jpsec_granularity::Packet as u32
                ),
                JSEC_OK
            );
            assert_eq!(jsec_jpsec_policy_set_iv(p, IV.as_ptr(), 16), JSEC_OK);
            assert_eq!(
                jsec_jpsec_protect(p, orig.as_ptr(), orig.len(), &mut prot),
                JSEC_OK
            );
            let protected = bytes(prot);
            assert_ne!(protected, orig);

            assert_eq!(jsec_jpsec_keys_new(&mut keys), JSEC_OK);
            assert_eq!(jsec_jpsec_keys_add(keys, K0.as_ptr(), 32), JSEC_OK);
            let mut out = ptr::null_mut();
            let mut rep = ptr::null();
            assert_eq!(
                jsec_jpsec_consume(
                    protected.as_ptr(),
                    protected.len(),
                    keys,
                    &mut out,
                    &mut rep
                ),
                JSEC_OK
            );
            assert_eq!(bytes(out), orig);
            let mut t = jsec_jpsec_tool_report {
                struct_size: size_of::<jsec_jpsec_tool_report>(),
                ..Default::default()
            };
            assert_eq!(jsec_jpsec_report_tool(rep, 0, &mut t), JSEC_OK);
            assert_eq!(t.template_id, 1);
            assert_eq!(t.decrypted, t.units);
            jsec_buffer_free(out);
            jsec_jpsec_report_free(rep);

            // Tamper with the largest body: VERIFICATION_FAILED, *out NULL,
            // the report names the packet.
            let mut ix = ptr::null();
            assert_eq!(
                jsec_j2k_index_new(protected.as_ptr(), protected.len(), &mut ix),
                JSEC_OK
            );
            let mut n = 0;
            assert_eq!(
                jsec_j2k_index_packet_count(ix, &mut n, ptr::null_mut()),
                JSEC_OK
            );
            let mut best = jsec_j2k_packet::default();
            for i in 0..n {
                let mut pk = jsec_j2k_packet {
                    struct_size: size_of::<jsec_j2k_packet>(),
                    ..Default::default()
                };
                assert_eq!(jsec_j2k_index_packet(ix, i, &mut pk), JSEC_OK);
                if pk.body_length > best.body_length {
                    best = pk;
                }
            }
            jsec_j2k_index_free(ix);
            let mut bad = protected.clone();
            bad[(best.body_offset + best.body_length / 2) as usize] ^= 0x10;
            let mut out = 0x10 as *mut jsec_buffer;
            let mut rep = ptr::null();
            assert_eq!(
                jsec_jpsec_consume(bad.as_ptr(), bad.len(), keys, &mut out, &mut rep),
                JSEC_ERR_VERIFICATION_FAILED
            );
            assert!(out.is_null());
            assert!(!rep.is_null());
            let want = format!(
                "tile {} layer {} resolution {} component {} precinct {} was modified",
                best.tile, best.layer, best.resolution, best.component, best.precinct
            );
            assert!(last_error().contains(&want), "{}", last_error());
            let mut failed = false;
            assert_eq!(jsec_jpsec_report_failed(rep, &mut failed), JSEC_OK);
            assert!(failed);
            jsec_jpsec_report_free(rep);

            jsec_jpsec_keys_free(keys);
            jsec_buffer_free(prot);
            jsec_jpsec_policy_free(p);
        }
    }
}
