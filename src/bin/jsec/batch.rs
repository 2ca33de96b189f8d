//! Turning path arguments into (input, output) jobs and running them over a
//! thread pool with a progress bar, per-file failures and a summary line.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::args::BatchArgs;
use crate::fsio::{self, Failure};

/// One file to process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The input file.
    pub input: PathBuf,
    /// Where the result goes (may be `input` with `--in-place`).
    pub output: PathBuf,
}

/// The jobs and whether this is a batch (progress bar and summary line).
#[derive(Debug)]
pub struct Plan {
    /// Files to process, in argument order.
    pub jobs: Vec<Job>,
    /// More than one input, a directory or `--out-dir`.
    pub is_batch: bool,
}

/// Work out the jobs from the positional paths and the output flags.
///
/// * `IN OUT`: one job (OUT must not be IN unless `--in-place`);
/// * `--out-dir DIR IN...` (files or directories): output = DIR/<input file name>;
/// * `--in-place IN...` without `--out-dir`: every input is replaced (an
///   `IN OUT` pair naming the same file counts once).
pub fn plan(paths: &[PathBuf], batch: &BatchArgs) -> Result<Plan, Failure> {
    let jobs = if let Some(dir) = &batch.out_dir {
        let (inputs, _) = fsio::expand_inputs(paths)?;
        if dir.exists() && !dir.is_dir() {
            return Err(Failure::at(dir, "--out-dir is not a directory"));
        }
        let mut seen: HashMap<PathBuf, PathBuf> = HashMap::new();
        let mut jobs = Vec::with_capacity(inputs.len());
        for input in inputs {
            let name = input
                .file_name()
                .ok_or_else(|| Failure::at(&input, "input has no file name"))?;
            let output = dir.join(name);
            if let Some(first) = seen.insert(output.clone(), input.clone()) {
                return Err(Failure::at(
                    &input,
                    format!(
                        "same file name as {} (both would be written to {})",
                        first.display(),
                        output.display()
                    ),
                ));
            }
            jobs.push(Job { input, output });
        }
        return finish_plan(jobs, batch, true);
    } else if batch.in_place {
        if let [a, b] = paths {
            if !a.is_dir() && fsio::same_file(a, b) {
                let jobs = vec![Job {
                    input: a.clone(),
                    output: b.clone(),
                }];
                return finish_plan(jobs, batch, false);
            }
        }
        let (inputs, had_dir) = fsio::expand_inputs(paths)?;
        let mut seen: HashMap<PathBuf, PathBuf> = HashMap::new();
        for p in &inputs {
            let canonical = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
            if let Some(first) = seen.insert(canonical, p.clone()) {
                return Err(Failure::at(
                    p,
                    format!("given twice (also as {})", first.display()),
                ));
            }
        }
        let is_batch = had_dir || inputs.len() > 1;
        let jobs = inputs
            .into_iter()
            .map(|p| Job {
                output: p.clone(),
                input: p,
            })
            .collect();
        return finish_plan(jobs, batch, is_batch);
    } else {
        match paths {
            [input, output] => {
                if input.is_dir() {
                    return Err(Failure::usage(format!(
                        "{} is a directory: give --out-dir DIR",
                        input.display()
                    )));
                }
                if output.is_dir() {
                    return Err(Failure::usage(format!(
                        "{} is a directory: give --out-dir {} to write into it",
                        output.display(),
                        output.display()
                    )));
                }
                vec![Job {
                    input: input.clone(),
                    output: output.clone(),
                }]
            }
            [_] => {
                return Err(Failure::usage(
                    "missing OUT: give IN OUT, --out-dir DIR, or --in-place",
                ))
            }
            _ => {
                return Err(Failure::usage(
                    "with more than one input --out-dir is required",
                ))
            }
        }
    };
    finish_plan(jobs, batch, false)
}

fn finish_plan(jobs: Vec<Job>, batch: &BatchArgs, is_batch: bool) -> Result<Plan, Failure> {
    if jobs.is_empty() {
        return Err(Failure::usage(
            "no input files (a directory contributes *.jpg, *.jpeg, *.jpe, *.jfif)",
        ));
    }
    if !batch.in_place {
        for j in &jobs {
            if fsio::same_file(&j.input, &j.output) {
                return Err(Failure::at(
                    &j.output,
                    format!(
                        "output is the input file {} (use --in-place to replace it)",
                        j.input.display()
                    ),
                ));
            }
        }
    }
    Ok(Plan { jobs, is_batch })
}

/// What one successful job reports.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Bytes processed (the file size).
    pub bytes: u64,
    /// Warnings (offset, message) from the library's report.
    pub warnings: Vec<(u64, String)>,
}

/// Totals of a run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    /// Files processed successfully.
    pub ok: usize,
    /// Files that failed.
    pub failed: usize,
    /// Bytes of the successful files.
    pub bytes: u64,
}

/// Run `work` over the jobs (in parallel for batches), then print, in input
/// order, each file's warnings and failure, and for batches a summary line
/// `"<verb> N files (X MB) in T s[, F failed]"` (unless quiet).
pub fn run<F>(plan: &Plan, batch: &BatchArgs, verb: &str, work: F) -> Result<Totals, Failure>
where
    F: Fn(&Job) -> Result<Outcome, Failure> + Sync,
{
    let start = Instant::now();
    let show_progress = plan.is_batch && !batch.quiet && std::io::stderr().is_terminal();
    let progress = if show_progress {
        let total: u64 = plan
            .jobs
            .iter()
            .map(|j| std::fs::metadata(&j.input).map_or(0, |m| m.len()))
            .sum();
        let pb = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} {msg} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})",
        ) {
            pb.set_style(style);
        }
        pb.set_message(verb.to_string());
        pb
    } else {
        ProgressBar::hidden()
    };

    let one = |job: &Job| {
        let r = work(job);
        match &r {
            Ok(o) => progress.inc(o.bytes),
            Err(_) => progress.inc(std::fs::metadata(&job.input).map_or(0, |m| m.len())),
        }
        r
    };
    let results: Vec<Result<Outcome, Failure>> = if plan.jobs.len() > 1 {
        let mut builder = rayon::ThreadPoolBuilder::new();
        if let Some(n) = batch.jobs {
            builder = builder.num_threads(usize::from(n));
        }
        let pool = builder
            .build()
            .map_err(|e| Failure::usage(format!("cannot start worker threads: {e}")))?;
        pool.install(|| plan.jobs.par_iter().map(one).collect())
    } else {
        plan.jobs.iter().map(one).collect()
    };
    progress.finish_and_clear();

    let mut totals = Totals::default();
    for (job, r) in plan.jobs.iter().zip(results) {
        match r {
            Ok(o) => {
                for (off, msg) in &o.warnings {
                    eprintln!(
                        "jsec: {}: warning: {msg} (at byte offset {off})",
                        job.input.display()
                    );
                }
                totals.ok += 1;
                totals.bytes += o.bytes;
            }
            Err(f) => {
                eprintln!("jsec: {f}");
                totals.failed += 1;
            }
        }
    }
    if plan.is_batch && !batch.quiet {
        eprintln!("{}", summary(verb, &totals, start.elapsed().as_secs_f64()));
    }
    Ok(totals)
}

/// `"encrypted 17 files (42.1 MB) in 0.83 s, 2 failed"`.
pub fn summary(verb: &str, t: &Totals, seconds: f64) -> String {
    let files = if t.ok == 1 { "file" } else { "files" };
    let mut s = format!(
        "{verb} {} {files} ({:.1} MB) in {seconds:.2} s",
        t.ok,
        t.bytes as f64 / 1e6
    );
    if t.failed > 0 {
        s.push_str(&format!(", {} failed", t.failed));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch_args(out_dir: Option<PathBuf>, in_place: bool) -> BatchArgs {
        BatchArgs {
            out_dir,
            in_place,
            jobs: None,
            quiet: true,
        }
    }

    #[test]
    fn summary_wording() {
        let t = Totals {
            ok: 17,
            failed: 2,
            bytes: 42_100_000,
        };
        assert_eq!(
            summary("encrypted", &t, 0.834),
            "encrypted 17 files (42.1 MB) in 0.83 s, 2 failed"
        );
        let t = Totals {
            ok: 1,
            failed: 0,
            bytes: 0,
        };
        assert_eq!(
            summary("decrypted", &t, 0.0),
            "decrypted 1 file (0.0 MB) in 0.00 s"
        );
    }

    #[test]
    fn plans() {
        let a = PathBuf::from("a.jpg");
        let b = PathBuf::from("b.jpg");
        let p = plan(&[a.clone(), b.clone()], &batch_args(None, false)).unwrap();
        assert_eq!(
            p.jobs,
            vec![Job {
                input: a.clone(),
                output: b.clone()
            }]
        );
        assert!(!p.is_batch);
        assert!(plan(std::slice::from_ref(&a), &batch_args(None, false)).is_err());
        assert!(plan(&[a.clone(), b.clone(), a.clone()], &batch_args(None, false)).is_err());
        let p = plan(
            &[a.clone(), b.clone()],
            &batch_args(Some("d".into()), false),
        )
        .unwrap();
        assert_eq!(p.jobs[1].output, PathBuf::from("d/b.jpg"));
        assert!(p.is_batch);
        let p = plan(std::slice::from_ref(&a), &batch_args(None, true)).unwrap();
        assert_eq!(p.jobs[0].output, a);
        let dup = plan(
            &[a.clone(), PathBuf::from("x/a.jpg")],
            &batch_args(Some("d".into()), false),
        );
        assert!(dup.is_err());
    }
}
