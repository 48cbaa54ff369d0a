//! Thin entry point: parse arguments, run the command, print once, map to the exit code.
//!
//! Nothing here panics on a failed write: `println!`/`eprintln!` panic when the stream is
//! closed or full (exit 101), so every write goes through [`write_out`] and its error is
//! handled — a closed pipe ends quietly with the run's exit code, any other failure to write
//! the report is exit 2, and a note that cannot reach standard error is dropped.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use eci_audit::app;
use eci_audit::audit::ExitStatus;
use eci_audit::cli::Cli;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors.
            let status = if e.use_stderr() {
                ExitStatus::Error
            } else {
                ExitStatus::Passed
            };
            let _ = e.print();
            return exit(status);
        }
    };
    match app::run(cli.command) {
        Ok(out) => {
            if let Err(e) = write_out(&mut std::io::stdout().lock(), &out.stdout) {
                if e.kind() == std::io::ErrorKind::BrokenPipe {
                    return exit(out.status);
                }
                note(&format!("cannot write to standard output: {e}"));
                return exit(ExitStatus::Error);
            }
            if let Some(line) = out.stderr {
                // The report is out; a note that cannot be shown changes nothing.
                let _ = write_out(&mut std::io::stderr().lock(), &format!("{line}\n"));
            }
            exit(out.status)
        }
        Err(e) => {
            note(&e.chain_for_terminal());
            exit(ExitStatus::Error)
        }
    }
}

/// Writes and flushes `text` (nothing when empty).
fn write_out(stream: &mut impl Write, text: &str) -> std::io::Result<()> {
    if text.is_empty() {
        return Ok(());
    }
    stream.write_all(text.as_bytes())?;
    stream.flush()
}

/// `eci-audit: error: …` on standard error, if standard error can take it.
fn note(message: &str) {
    let _ = write_out(
        &mut std::io::stderr().lock(),
        &format!("eci-audit: error: {message}\n"),
    );
}

fn exit(status: ExitStatus) -> ExitCode {
    ExitCode::from(status.code())
}
