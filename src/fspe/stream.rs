//! Bounded-memory streaming over the engine.

use super::engine::Engine;
use super::{Report, Seed};
use crate::{Error, ErrorKind, Result};

/// Hold at most this many released bytes before `write` refuses more input
/// (the caller must `read`). Keeps memory bounded when nobody reads.
const MAX_READY: usize = 1 << 20;

/// A length-preserving stream: every byte written comes out (transformed or
/// not) exactly once, in order. Memory is bounded by one marker segment
/// (64 KiB) or one MCU of entropy-coded data plus what is waiting to be read.
pub struct Stream {
    engine: Engine,
    window: Vec<u8>,
    masks: [Vec<u8>; 3],
    base: u64,
    ready: Vec<u8>,
    ready_pos: usize,
    state: StreamState,
    report: Option<Report>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StreamState {
    Open,
    Finished,
    Failed,
}

impl Stream {
    pub(crate) fn new(engine: Engine) -> Stream {
        Stream {
            engine,
            window: Vec::new(),
            masks: [Vec::new(), Vec::new(), Vec::new()],
            base: 0,
            ready: Vec::new(),
            ready_pos: 0,
            state: StreamState::Open,
            report: None,
        }
    }

    fn check_open(&self) -> Result<()> {
        match self.state {
            StreamState::Open => Ok(()),
            StreamState::Finished => Err(Error::new(
                ErrorKind::InvalidState,
                "stream already finished",
            )),
            StreamState::Failed => Err(Error::new(
                ErrorKind::InvalidState,
                "stream failed earlier; discard its output",
            )),
        }
    }

    fn run(&mut self, last: bool) -> Result<()> {
        let [m0, m1, m2] = &mut self.masks;
        let r = self
            .engine
            .advance(&mut self.window, [m0, m1, m2], self.base, last);
        let upto = match r {
            Ok(u) => u,
            Err(e) => {
                self.state = StreamState::Failed;
                return Err(e);
            }
        };
        let n = (upto - self.base) as usize;
        if self.ready_pos > 0 && self.ready_pos == self.ready.len() {
            self.ready.clear();
            self.ready_pos = 0;
        }
        self.ready.extend_from_slice(&self.window[..n]);
        self.window.drain(..n);
        for m in &mut self.masks {
            m.drain(..n);
        }
        self.base = upto;
        Ok(())
    }

    /// Feed input. Fails with [`ErrorKind::InvalidState`] after `finish` or an
    /// earlier error, and with [`ErrorKind::BufferTooSmall`] when more than
    /// 1 MiB of output waits to be read.
    pub fn write(&mut self, input: &[u8]) -> Result<()> {
        self.check_open()?;
        if self.available() > MAX_READY {
            return Err(Error::new(
                ErrorKind::BufferTooSmall,
                "stream output not read: read before writing more",
            ));
        }
        self.window.extend_from_slice(input);
        for m in &mut self.masks {
            m.resize(self.window.len(), 0);
        }
        self.run(false)
    }

    /// Copy up to `out.len()` ready output bytes into `out`; returns how many.
    pub fn read(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.available());
        out[..n].copy_from_slice(&self.ready[self.ready_pos..self.ready_pos + n]);
        self.ready_pos += n;
        n
    }

    /// Bytes ready to be read.
    pub fn available(&self) -> usize {
        self.ready.len() - self.ready_pos
    }

    /// Write `input` and append all ready output to `output`.
    pub fn update(&mut self, input: &[u8], output: &mut Vec<u8>) -> Result<()> {
        self.write(input)?;
        output.extend_from_slice(&self.ready[self.ready_pos..]);
        self.ready_pos = self.ready.len();
        Ok(())
    }

    /// Declare the end of input: the rest of the output becomes ready. Fails
    /// if the input ended before the primary image was complete.
    pub fn finish(&mut self) -> Result<Report> {
        self.check_open()?;
        self.run(true)?;
        if !self.engine.is_done() || !self.window.is_empty() {
            self.state = StreamState::Failed;
            return Err(Error::malformed_at(
                self.base,
                "truncated: input ended before the image was complete",
            ));
        }
        self.state = StreamState::Finished;
        let r = self.engine.take_report();
        self.report = Some(r.clone());
        Ok(r)
    }

    /// After [`Stream::finish`] of a digest stream: the seed for the cipher pass.
    pub fn seed(&self) -> Option<Seed> {
        if self.state == StreamState::Finished {
            self.engine.seed()
        } else {
            None
        }
    }

    /// Total bytes accepted so far.
    pub fn position(&self) -> u64 {
        self.base + self.window.len() as u64
    }
}
