//! Thin entry point: parse arguments, run the command, print once, map to the exit code.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use eci_audit::app;
use eci_audit::cli::Cli;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
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
                        return ExitCode::from(u8::try_from(out.exit_code).unwrap_or(2));
                    }
                    eprintln!("eci-audit: error: cannot write to standard output: {e}");
                    return ExitCode::from(2);
                }
            }
            if let Some(line) = out.stderr {
                eprintln!("{line}");
            }
            ExitCode::from(u8::try_from(out.exit_code).unwrap_or(2))
        }
        Err(e) => {
            let mut text = format!("eci-audit: error: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                let s_text = s.to_string();
                if !text.contains(&s_text) {
                    text.push_str(&format!("\n  caused by: {s_text}"));
                }
                source = s.source();
            }
            eprintln!("{text}");
            ExitCode::from(2)
        }
    }
}
