//! `jsec`: the command-line tool over the `jsec` library.
//!
//! Uses only the library's public Rust API. Exit status: 0 on success, 2 on
//! bad input or usage (clap's usage errors included), with one line per
//! problem on stderr: `jsec: <file>: <message>`. See `docs/cli.md`.

/// `println!` to stdout that ends the program quietly (exit 0) when stdout
/// is a closed pipe (`jsec info a.jpg | head -1`) instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::out::write(&format!("{}\n", format_args!($($arg)*)))
    };
}

mod args;
mod batch;
mod commands;
mod demo;
mod exif;
mod fsio;
mod info;
mod j2k;
mod jpsec;
mod json;
mod out;
mod scene;
mod signing;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // clap exits with 2 on usage errors and 0 for --help / --version.
    let cli = args::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("jsec: {failure}");
            ExitCode::from(commands::EXIT_FAILURE)
        }
    }
}
