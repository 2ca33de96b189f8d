//! Standard output that tolerates a closed pipe.

use std::io::{self, Write};

/// Write `text` to stdout. A closed pipe ends the program quietly with exit
/// status 0 (the reader has what it wanted); any other write error ends it
/// with `jsec: stdout: <error>` and exit status 2.
pub fn write(text: &str) {
    let mut stdout = io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        if e.kind() == io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("jsec: stdout: {}", crate::fsio::io_message(&e));
        std::process::exit(i32::from(crate::commands::EXIT_FAILURE));
    }
}
