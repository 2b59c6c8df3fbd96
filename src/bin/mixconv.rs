//! The `mixconv` command: benchmark report (default), `bench`, `verify`, `run`, `info`.
//! Run `mixconv --help` for the flags.

#[path = "mixconv/args.rs"]
mod args;
#[path = "mixconv/info.rs"]
mod info;
#[path = "mixconv/npy.rs"]
mod npy;
#[path = "mixconv/npz.rs"]
mod npz;
#[path = "mixconv/report.rs"]
mod report;
#[path = "mixconv/run.rs"]
mod run;
#[path = "mixconv/verify.rs"]
mod verify;

use args::{Cli, Command};
use clap::Parser;
use mixconv::workloads;
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        None => main_job(&cli.main),
        Some(Command::Bench(a)) => bench(a),
        Some(Command::Verify(a)) => verify::verify(a).map(|failed| {
            if failed > 0 {
                std::process::exit(1)
            }
        }),
        Some(Command::Run(a)) => run::run(a),
        Some(Command::Info(a)) => info::info(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The MixNet report.
fn main_job(a: &args::MainArgs) -> Result<(), String> {
    let isa = args::isa(&a.report.isa)?;
    let models: &[&str] = match a.model.as_str() {
        "all" => &["s", "m", "l"],
        m => &[m][..],
    };
    let layers: Vec<_> = models
        .iter()
        .flat_map(|m| workloads::model(m).unwrap_or(&[]))
        .map(|l| {
            let (layer, shape) = l.layer();
            (l.name.to_string(), layer, shape)
        })
        .collect();
    let ctx = report::Context::new(isa, a.report.threads)?;
    report::report(
        &ctx,
        &layers,
        a.report.json,
        Duration::from_millis(a.report.budget_ms),
    )
}

/// The same report for one described layer.
fn bench(a: &args::BenchArgs) -> Result<(), String> {
    let isa = args::isa(&a.report.isa)?;
    let layer = a.layer.resolve()?;
    let ctx = report::Context::new(isa, a.report.threads)?;
    report::report(
        &ctx,
        &[layer],
        a.report.json,
        Duration::from_millis(a.report.budget_ms),
    )
}
