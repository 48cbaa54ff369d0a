//! What a live run shows on standard error while it runs (`--verbose`, `--quiet`).
//!
//! - On a terminal: one progress line, rewritten in place ("phase 2 · 14/23 requests answered"),
//!   naming the latest retry with its reason and wait ("503 from /services/data/v66.0/composite,
//!   retry 2/3 in 1.4 s"), and erased when the run ends so the report starts on a clean line.
//! - `--verbose`: one line per answered request (method, path, status, time) and per retry, on a
//!   terminal or not.
//! - On a pipe without `--verbose`, or with `--quiet`: nothing.
//!
//! Paths never carry their query string (the SOQL); retry reasons went through the collector's
//! redactor; everything is escaped before it reaches the terminal.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use crate::collect::{Event, Observer, ObserverHandle};
use crate::report::escape;

/// How much a live run says while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Silent,
    /// One line rewritten in place (a terminal).
    Line,
    /// A line per request and retry (`--verbose`).
    Log,
}

impl Mode {
    /// `--quiet` wins; `--verbose` logs anywhere; otherwise a progress line on a terminal only.
    pub fn choose(verbose: bool, quiet: bool, stderr_is_terminal: bool) -> Mode {
        if quiet {
            Mode::Silent
        } else if verbose {
            Mode::Log
        } else if stderr_is_terminal {
            Mode::Line
        } else {
            Mode::Silent
        }
    }
}

/// The observer for `mode`, writing to standard error; `None` when silent.
pub fn observer(mode: Mode) -> Option<ObserverHandle> {
    match mode {
        Mode::Silent => None,
        Mode::Line | Mode::Log => Some(ObserverHandle::new(Stderr {
            progress: Mutex::new(Progress::new(mode)),
        })),
    }
}

/// Turns events into text. Pure, so the wording is tested without a terminal.
#[derive(Debug)]
pub struct Progress {
    mode: Mode,
    phase: u8,
    sent: u32,
    answered: u32,
    retries: u32,
    last_retry: Option<String>,
    /// A progress line is on the screen and must be erased before anything else is written.
    drawn: bool,
}

/// Erases the current line of a terminal.
const ERASE_LINE: &str = "\r\x1b[2K";

impl Progress {
    pub fn new(mode: Mode) -> Self {
        Progress {
            mode,
            phase: 0,
            sent: 0,
            answered: 0,
            retries: 0,
            last_retry: None,
            drawn: false,
        }
    }

    /// The text to write for `event` (possibly empty).
    pub fn on(&mut self, event: &Event<'_>) -> String {
        let mut out = String::new();
        match event {
            Event::Sent { phase, .. } => {
                self.sent += 1;
                self.phase = self.phase.max(*phase);
            }
            Event::Answered {
                method,
                path,
                status,
                elapsed,
                detail,
                ..
            } => {
                self.answered += 1;
                if self.mode == Mode::Log {
                    let outcome = match (status, detail) {
                        (Some(status), _) => status.to_string(),
                        (None, Some(detail)) => {
                            format!("no answer ({})", escape::short_line(detail))
                        }
                        (None, None) => "no answer".to_string(),
                    };
                    let _ = writeln!(
                        out,
                        "eci-audit: {method} {} {outcome} {}",
                        escape::short_line(path),
                        millis(*elapsed)
                    );
                }
            }
            Event::Retrying {
                path,
                reason,
                attempt,
                max,
                wait,
                ..
            } => {
                self.retries += 1;
                let text = format!(
                    "{} from {}, retry {attempt}/{max} in {}",
                    escape::short_line(reason),
                    escape::short_line(path),
                    seconds(*wait)
                );
                if self.mode == Mode::Log {
                    let _ = writeln!(out, "eci-audit: {text}");
                }
                self.last_retry = Some(text);
            }
        }
        if self.mode == Mode::Line {
            out.push_str(ERASE_LINE);
            out.push_str(&self.line());
            self.drawn = true;
        }
        out
    }

    /// The progress line's text.
    pub fn line(&self) -> String {
        let mut line = format!(
            "eci-audit: phase {} · {}/{} requests answered",
            self.phase, self.answered, self.sent
        );
        if let Some(retry) = &self.last_retry {
            let _ = write!(line, " · {retry}");
        }
        line
    }

    /// What to write when the run ends: the erasure of a drawn progress line.
    pub fn finish(&mut self) -> &'static str {
        if std::mem::take(&mut self.drawn) {
            ERASE_LINE
        } else {
            ""
        }
    }

    pub fn retries(&self) -> u32 {
        self.retries
    }
}

fn millis(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

struct Stderr {
    progress: Mutex<Progress>,
}

impl Observer for Stderr {
    fn event(&self, event: &Event<'_>) {
        let Ok(mut progress) = self.progress.lock() else {
            return;
        };
        let text = progress.on(event);
        if !text.is_empty() {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(text.as_bytes());
            let _ = err.flush();
        }
    }
}

impl Drop for Stderr {
    fn drop(&mut self) {
        if let Ok(mut progress) = self.progress.lock() {
            let text = progress.finish();
            if !text.is_empty() {
                let _ = std::io::stderr().lock().write_all(text.as_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::HttpMethod;

    const PATH: &str = "/services/data/v66.0/composite";

    fn answered(status: Option<u16>) -> Event<'static> {
        Event::Answered {
            phase: 2,
            method: HttpMethod::Post,
            path: PATH,
            status,
            elapsed: Duration::from_millis(312),
            detail: status.is_none().then_some("connection refused"),
        }
    }

    fn retrying() -> Event<'static> {
        Event::Retrying {
            method: HttpMethod::Post,
            path: PATH,
            reason: "503",
            attempt: 2,
            max: 3,
            wait: Duration::from_millis(1400),
        }
    }

    #[test]
    fn the_mode_follows_the_flags_and_the_terminal() {
        assert_eq!(Mode::choose(false, false, true), Mode::Line);
        assert_eq!(Mode::choose(false, false, false), Mode::Silent);
        assert_eq!(Mode::choose(true, false, false), Mode::Log);
        assert_eq!(Mode::choose(true, false, true), Mode::Log);
        assert_eq!(Mode::choose(false, true, true), Mode::Silent);
        assert!(observer(Mode::Silent).is_none());
    }

    #[test]
    fn the_progress_line_counts_and_names_the_latest_retry() {
        let mut p = Progress::new(Mode::Line);
        let sent = Event::Sent {
            phase: 2,
            method: HttpMethod::Post,
            path: PATH,
        };
        p.on(&sent);
        p.on(&sent);
        let out = p.on(&retrying());
        assert!(out.starts_with(ERASE_LINE), "{out:?}");
        assert!(
            !out.contains('\n'),
            "a progress line never scrolls: {out:?}"
        );
        let out = p.on(&answered(Some(200)));
        assert_eq!(
            out.trim_start_matches(ERASE_LINE),
            "eci-audit: phase 2 · 1/2 requests answered · 503 from /services/data/v66.0/composite, retry 2/3 in 1.4 s"
        );
        assert_eq!(p.retries(), 1);
        assert_eq!(p.finish(), ERASE_LINE);
        assert_eq!(p.finish(), "", "erased once");
    }

    #[test]
    fn verbose_logs_each_request_and_retry() {
        let mut p = Progress::new(Mode::Log);
        assert_eq!(
            p.on(&answered(Some(200))),
            "eci-audit: POST /services/data/v66.0/composite 200 312 ms\n"
        );
        assert_eq!(
            p.on(&retrying()),
            "eci-audit: 503 from /services/data/v66.0/composite, retry 2/3 in 1.4 s\n"
        );
        assert_eq!(
            p.on(&answered(None)),
            "eci-audit: POST /services/data/v66.0/composite no answer (connection refused) 312 ms\n"
        );
        assert_eq!(p.finish(), "", "a log has no line to erase");
    }

    #[test]
    fn hostile_text_is_escaped() {
        let mut p = Progress::new(Mode::Log);
        let out = p.on(&Event::Retrying {
            method: HttpMethod::Get,
            path: "/x\u{1b}[2J",
            reason: "boom\n63 rules: 63 pass — passed",
            attempt: 1,
            max: 3,
            wait: Duration::ZERO,
        });
        assert_eq!(out.matches('\n').count(), 1, "{out:?}");
        assert!(!out.contains('\u{1b}'), "{out:?}");
    }
}
