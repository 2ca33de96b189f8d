//! The subcommands: encrypt, decrypt, keygen, derive-key (info and demo have
//! their own modules).

use std::process::ExitCode;

use clap::ValueEnum;
use jsec::crypto::Key;
use jsec::fspe::{Cipher, Direction};

use crate::args::{
    Cli, Command, CryptArgs, DecryptArgs, DeriveKeyArgs, ExifArg, J2kCommand, KeyType, KeygenArgs,
};
use crate::batch::{self, Job, Outcome};
use crate::fsio::{self, Failure};
use crate::{demo, info, j2k, jpsec, signing};
use jsec::crypto::longterm::LongTermSecret;

/// Exit status for bad input or usage.
pub const EXIT_FAILURE: u8 = 2;

/// Run a parsed command line. `Err` is a failure that stops everything (one
/// line on stderr, exit 2); per-file failures of a batch are printed by the
/// batch runner and turn into exit 2 here.
pub fn run(cli: Cli) -> Result<ExitCode, Failure> {
    match cli.command {
        Command::Encrypt(a) => crypt(&a, Direction::Encrypt, 0),
        Command::Decrypt(DecryptArgs { common, key_level }) => {
            crypt(&common, Direction::Decrypt, key_level)
        }
        Command::Keygen(a) => keygen(&a),
        Command::DeriveKey(a) => derive_key(&a),
        Command::Info(a) => info::run(&a),
        Command::Demo(a) => demo::run(&a),
        Command::Sign(a) => signing::sign(&a),
        Command::Verify(a) => signing::verify(&a),
        Command::Crop(a) => signing::crop(&a),
        Command::Attach(a) => signing::attach(&a),
        Command::J2k(J2kCommand::Index(a)) => j2k::index(&a),
        Command::J2k(J2kCommand::Transcode(a)) => j2k::transcode(&a),
        Command::J2k(J2kCommand::Protect(a)) => jpsec::protect(&a),
        Command::J2k(J2kCommand::Consume(a)) => jpsec::consume(&a),
        Command::J2k(J2kCommand::Info(a)) => jpsec::info(&a),
        Command::J2k(J2kCommand::Keys(a)) => jpsec::keys(&a),
    }
}

/// Build the cipher from the key file and the flags.
fn make_cipher(a: &CryptArgs, key_level: u8) -> Result<Cipher, Failure> {
    if key_level > 0 && !a.fspe.levels {
        return Err(Failure::usage(format!(
            "--key-level {key_level} needs --levels (multi-level encryption)"
        )));
    }
    let key = fsio::read_key_file(&a.key)?;
    Cipher::new(key, a.fspe.options())
        .and_then(|c| c.with_key_level(key_level))
        .map_err(|e| Failure::usage(e.to_string()))
}

/// Encrypt or decrypt one file: read, transform in memory, write atomically.
fn crypt_file(job: &Job, cipher: &Cipher, dir: Direction) -> Result<Outcome, Failure> {
    let mut buf = fsio::read_input(&job.input)?;
    let report = match dir {
        Direction::Encrypt => cipher.encrypt(&mut buf),
        Direction::Decrypt => cipher.decrypt(&mut buf),
    }
    .map_err(|e| Failure::at(&job.input, e))?;
    fsio::write_atomic(&job.output, &buf)?;
    Ok(Outcome {
        bytes: buf.len() as u64,
        warnings: report.warnings,
    })
}

fn crypt(a: &CryptArgs, dir: Direction, key_level: u8) -> Result<ExitCode, Failure> {
    exif_value_hint(a)?;
    let plan = batch::plan(&a.paths, &a.batch)?;
    let cipher = make_cipher(a, key_level)?;
    if let Some(d) = &a.batch.out_dir {
        std::fs::create_dir_all(d).map_err(|e| Failure::at(d, fsio::io_message(&e)))?;
    }
    let verb = match dir {
        Direction::Encrypt => "encrypted",
        Direction::Decrypt => "decrypted",
    };
    let totals = batch::run(&plan, &a.batch, verb, |job| crypt_file(job, &cipher, dir))?;
    Ok(if totals.failed > 0 {
        ExitCode::from(EXIT_FAILURE)
    } else {
        ExitCode::SUCCESS
    })
}

/// `--exif gps in.jpg out.jpg` (a space, not `=`) makes `gps` the first
/// input: say so instead of failing on a missing file named `gps`.
fn exif_value_hint(a: &CryptArgs) -> Result<(), Failure> {
    let Some(first) = a.paths.first() else {
        return Ok(());
    };
    let text = first.to_string_lossy();
    let classes = text.split(',').all(|c| ExifArg::from_str(c, false).is_ok());
    if a.fspe.exif.is_some() && classes && !first.exists() {
        return Err(Failure::usage(format!(
            "--exif takes its classes after '=' (--exif={text}); `{text}` was read as an input file"
        )));
    }
    Ok(())
}

fn keygen(a: &KeygenArgs) -> Result<ExitCode, Failure> {
    let Some(len) = a.key_type.len() else {
        if let Some(p) = &a.public_out {
            if !a.force && p.exists() {
                return Err(Failure::at(p, "file exists (use --force to replace it)"));
            }
        }
        if a.key_type == KeyType::Bls {
            let sk = jsec::crypto::bls::BlsSecretKey::generate()
                .map_err(|e| Failure::at(&a.output, e))?;
            fsio::write_bls_secret(&a.output, &sk, a.force)?;
            if let Some(p) = &a.public_out {
                fsio::write_bls_public(p, &sk.public_key(), a.force)?;
            }
            return Ok(ExitCode::SUCCESS);
        }
        let sk = if a.key_type == KeyType::Rsa3072 {
            LongTermSecret::generate_rsa(3072).map_err(|e| Failure::at(&a.output, e))?
        } else {
            LongTermSecret::generate_ecdsa_p256()
        };
        fsio::write_long_term_secret(&a.output, &sk, a.force)?;
        if let Some(p) = &a.public_out {
            fsio::write_long_term_public(p, &sk.public_key(), a.force)?;
        }
        return Ok(ExitCode::SUCCESS);
    };
    if a.public_out.is_some() {
        return Err(Failure::usage(
            "--public-out is only for signing keys (--type bls, ecdsa-p256, rsa3072)",
        ));
    }
    let key = Key::generate(len).map_err(|e| Failure::at(&a.output, e))?;
    fsio::write_key_file(&a.output, &key, a.force)?;
    Ok(ExitCode::SUCCESS)
}

fn derive_key(a: &DeriveKeyArgs) -> Result<ExitCode, Failure> {
    let k0 = fsio::read_key_file(&a.key)?;
    let derived = k0.derive(a.level);
    fsio::write_key_file(&a.output, &derived, a.force)?;
    Ok(ExitCode::SUCCESS)
}
