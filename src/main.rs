//! Thin entry point: parse arguments, run the command, print once, map to the exit code.

// The one place that prints (the lint policy denies printing everywhere else).
#![allow(clippy::print_stdout, clippy::print_stderr)]

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
            if !out.stdout.is_empty() {
                let mut stdout = std::io::stdout().lock();
                if let Err(e) = stdout
                    .write_all(out.stdout.as_bytes())
                    .and_then(|()| stdout.flush())
                {
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        return exit(out.status);
                    }
                    eprintln!("eci-audit: error: cannot write to standard output: {e}");
                    return exit(ExitStatus::Error);
                }
            }
            if let Some(line) = out.stderr {
                eprintln!("{line}");
            }
            exit(out.status)
        }
        Err(e) => {
            eprintln!("eci-audit: error: {}", e.chain());
            exit(ExitStatus::Error)
        }
    }
}

fn exit(status: ExitStatus) -> ExitCode {
    ExitCode::from(status.code())
}
