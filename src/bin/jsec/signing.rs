//! The signature commands: sign, verify, crop, attach (croppable
//! signatures, profiles paper and compact; see docs/sign-format.md).

use std::process::ExitCode;

use jsec::sign::{SignOptions, Verified};
use jsec::ErrorKind;

use crate::args::{AttachArgs, CropArgs, ProfileArg, SignArgs, VerifyArgs};
use crate::fsio::{self, Failure, SignKey, VerifyKey};
use crate::json::Json;

/// Exit status of `verify` when the signature is invalid (or absent).
pub const EXIT_INVALID: u8 = 1;

fn threads(jobs: Option<u16>) -> usize {
    jobs.map(usize::from).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    })
}

pub fn sign(a: &SignArgs) -> Result<ExitCode, Failure> {
    let key = fsio::read_sign_key(&a.key)?;
    let profile = match (&key, a.profile) {
        (SignKey::Bls(_), None | Some(ProfileArg::Compact)) => ProfileArg::Compact,
        (SignKey::LongTerm(_), None | Some(ProfileArg::Paper)) => ProfileArg::Paper,
        (SignKey::Bls(_), Some(ProfileArg::Paper)) => {
            return Err(Failure::usage(
                "--profile paper needs a long-term ECDSA P-256 or RSA key (jsec keygen --type ecdsa-p256|rsa3072); this is a BLS key",
            ))
        }
        (SignKey::LongTerm(_), Some(ProfileArg::Compact)) => {
            return Err(Failure::usage(
                "--profile compact needs a BLS key (jsec keygen --type bls); this is an ECDSA or RSA key",
            ))
        }
    };
    if a.cert.is_some() && profile == ProfileArg::Compact {
        return Err(Failure::usage(
            "--cert is for the paper profile (a compact signature names its BLS key by its key id)",
        ));
    }
    let cert = a.cert.as_deref().map(fsio::read_certificate).transpose()?;
    let jpeg = fsio::read_input(&a.input)?;
    let opts = SignOptions {
        granularity: a.granularity,
        threads: threads(a.jobs),
    };
    let signed = match &key {
        SignKey::Bls(sk) => jsec::sign::sign_jpeg(&jpeg, sk, &opts),
        SignKey::LongTerm(sk) => jsec::sign::sign_jpeg_paper(&jpeg, sk, cert.as_deref(), &opts),
    }
    .map_err(|e| {
        let path = match (e.kind(), &a.cert) {
            (ErrorKind::InvalidArgument | ErrorKind::Malformed | ErrorKind::BadKey, Some(c))
                if e.message().contains("certificate") =>
            {
                c
            }
            _ => &a.input,
        };
        Failure::at(path, e)
    })?;
    fsio::write_atomic(&a.output, &signed)?;
    Ok(ExitCode::SUCCESS)
}

pub fn crop(a: &CropArgs) -> Result<ExitCode, Failure> {
    let signed = fsio::read_input(&a.input)?;
    let out = jsec::sign::crop_jpeg(&signed, a.rect).map_err(|e| Failure::at(&a.input, e))?;
    fsio::write_atomic(&a.output, &out)?;
    Ok(ExitCode::SUCCESS)
}

pub fn attach(a: &AttachArgs) -> Result<ExitCode, Failure> {
    let signed = fsio::read_input(&a.signed)?;
    let cropped = fsio::read_input(&a.cropped)?;
    let out = jsec::sign::attach(&signed, &cropped, threads(a.jobs)).map_err(|e| {
        // Name the file the problem is in.
        let path = match e.kind() {
            ErrorKind::InvalidArgument | ErrorKind::VerificationFailed => &a.cropped,
            _ => &a.signed,
        };
        Failure::at(path, e)
    })?;
    fsio::write_atomic(&a.output, &out)?;
    Ok(ExitCode::SUCCESS)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn verify(a: &VerifyArgs) -> Result<ExitCode, Failure> {
    let key = fsio::read_verify_key(&a.pubkey)?;
    let jpeg = fsio::read_input(&a.input)?;
    let result = match &key {
        VerifyKey::Bls(pk) => jsec::sign::verify_jpeg(&jpeg, pk, threads(a.jobs)),
        VerifyKey::LongTerm(pk) => jsec::sign::verify_jpeg(&jpeg, pk, threads(a.jobs)),
    };
    match result {
        Ok(v) => {
            report(a, &v);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) if e.kind() == ErrorKind::VerificationFailed => {
            if a.json {
                let j = Json::Object(vec![
                    ("file", Json::str(a.input.display().to_string())),
                    ("valid", Json::Bool(false)),
                    ("reason", Json::str(e.message())),
                ]);
                crate::out::write(&j.to_pretty());
            }
            eprintln!(
                "jsec: {}: invalid signature: {}",
                a.input.display(),
                e.message()
            );
            Ok(ExitCode::from(EXIT_INVALID))
        }
        Err(e) => Err(Failure::at(&a.input, e)),
    }
}

fn report(a: &VerifyArgs, v: &Verified) {
    let profile = match v.profile {
        1 => "paper",
        2 => "compact",
        _ => "unknown",
    };
    if a.json {
        let crop = match v.crop {
            Some((x, y, w, h)) => Json::Object(vec![
                ("x", Json::UInt(x.into())),
                ("y", Json::UInt(y.into())),
                ("width", Json::UInt(w.into())),
                ("height", Json::UInt(h.into())),
            ]),
            None => Json::Null,
        };
        let j = Json::Object(vec![
            ("file", Json::str(a.input.display().to_string())),
            ("valid", Json::Bool(true)),
            ("profile", Json::str(profile)),
            ("key_id", Json::str(hex(&v.key_id))),
            (
                "certificate_subject",
                v.certificate_subject
                    .as_deref()
                    .map_or(Json::Null, Json::str),
            ),
            (
                "original",
                Json::Object(vec![
                    ("width", Json::UInt(v.original.0.into())),
                    ("height", Json::UInt(v.original.1.into())),
                ]),
            ),
            ("granularity", Json::UInt(v.granularity.into())),
            ("crop", crop),
            ("cells", Json::UInt(v.cells)),
        ]);
        crate::out::write(&j.to_pretty());
        return;
    }
    outln!("{}: valid signature", a.input.display());
    outln!("  profile      {profile}");
    outln!("  signer key   {}", hex(&v.key_id));
    if let Some(s) = &v.certificate_subject {
        outln!("  certificate  {s} (embedded; its chain is not validated)");
    }
    outln!("  original     {}x{} pixels", v.original.0, v.original.1);
    match v.crop {
        Some((x, y, w, h)) => outln!("  crop         {w}x{h} at ({x}, {y}) of the original"),
        None => outln!("  crop         none (full image)"),
    }
    outln!("  cells        {} (granularity {})", v.cells, v.granularity);
}
