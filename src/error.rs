//! The one error type of the crate.

use std::fmt;

/// What went wrong, coarsely; maps one-to-one onto the C `jsec_status` codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A caller-supplied argument is invalid (bad option combination, bad key length …).
    InvalidArgument,
    /// The input is not a well-formed file of the expected format (truncated, bad lengths …).
    Malformed,
    /// The input is well formed but uses a feature this library does not handle
    /// (progressive, arithmetic coding, 12-bit, lossless …).
    Unsupported,
    /// An output buffer is too small.
    BufferTooSmall,
    /// Reading or writing a file failed.
    Io,
    /// A key is unusable (wrong length, not hex …).
    BadKey,
    /// A signature or MAC did not verify.
    VerificationFailed,
    /// An object was used in a state that does not allow the call (a finished stream …).
    InvalidState,
    /// An internal invariant broke; this is a bug in jsec.
    Internal,
    /// An application callback (an external signer, for instance) reported
    /// failure.
    Callback,
}

/// An error with a kind, a human-readable message and, where known, the byte
/// offset in the input at which the problem was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    offset: Option<u64>,
}

/// `Result` with the crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A new error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            offset: None,
        }
    }

    /// A [`ErrorKind::Malformed`] error at byte `offset`.
    pub fn malformed_at(offset: u64, message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Malformed,
            message: message.into(),
            offset: Some(offset),
        }
    }

    /// A [`ErrorKind::Unsupported`] error at byte `offset`.
    pub fn unsupported_at(offset: u64, message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Unsupported,
            message: message.into(),
            offset: Some(offset),
        }
    }

    /// A [`ErrorKind::InvalidArgument`] error.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidArgument, message)
    }

    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message, without the offset.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The byte offset in the input where the problem was found, if known.
    pub fn offset(&self) -> Option<u64> {
        self.offset
    }

    /// The same error with `context: ` put in front of the message.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(o) => write!(f, "{} (at byte offset {o})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::new(ErrorKind::Io, e.to_string())
    }
}
