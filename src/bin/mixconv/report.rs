//! The measurement report: per layer median time, GFLOP/s, % of FMA peak, memory floor,
//! speed-up over the reference and max error; printed as a table or as one JSON object.

use mixconv::{Isa, MixConv, Plan, Shape, Threads, bench, reference};
use serde_json::json;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// One measured layer.
pub struct Row {
    pub name: String,
    pub batch: usize,
    pub h: usize,
    pub w: usize,
    pub channels: usize,
    pub stride: usize,
    pub kernels: Vec<usize>,
    pub splits: Vec<usize>,
    pub dilations: Vec<usize>,
    pub microkernels: Vec<String>,
    pub macs: u64,
    pub median: Duration,
    pub runs: usize,
    /// The median time of moving the run's data alone ([`bench::Buffers::stream_with`]).
    pub floor: Duration,
    pub reference: Duration,
    pub max_abs_error: f64,
}

/// What the report is about: CPU, ISA, threads, peak.
pub struct Context {
    pub isa: Isa,
    pub threads: usize,
    /// The FMA peak of `threads` cores (one core's measured peak × threads).
    pub peak_gflops: f64,
    /// The pool the layers run on when `threads` > 1.
    pool: Option<rayon::ThreadPool>,
}

impl Context {
    pub fn new(isa: Isa, threads: usize) -> Result<Self, String> {
        let pool = match threads {
            1 => None,
            n => Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .build()
                    .map_err(|e| format!("cannot start {n} threads: {e}"))?,
            ),
        };
        Ok(Context {
            isa,
            threads,
            peak_gflops: bench::peak_gflops(isa) * threads as f64,
            pool,
        })
    }

    /// Runs `f` where the layers run: on the calling thread, or inside the pool of `threads`
    /// threads (as an engine running its whole model in its pool does), so that each run
    /// shares its work with threads already busy rather than waking a pool from outside.
    pub fn within<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match &self.pool {
            Some(pool) => pool.install(f),
            None => f(),
        }
    }

    /// The threads a layer uses from inside [`Context::within`].
    pub fn threads_arg(&self) -> Threads<'static> {
        if self.pool.is_some() {
            Threads::Current
        } else {
            Threads::Single
        }
    }

    fn pct(&self, gflops: f64) -> f64 {
        if self.peak_gflops > 0.0 {
            100.0 * gflops / self.peak_gflops
        } else {
            0.0
        }
    }
}

/// Shows progress on stderr: rewritten in place on a terminal, one line per step otherwise.
pub struct Progress {
    tty: bool,
    total: usize,
}

impl Progress {
    pub fn new(total: usize) -> Self {
        Progress {
            tty: std::io::stderr().is_terminal(),
            total,
        }
    }

    pub fn step(&self, i: usize, what: &str) {
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r\x1b[2K[{}/{}] {what}", i + 1, self.total);
            let _ = err.flush();
        } else if self.total <= 60
            || (i + 1).is_multiple_of(self.total.div_ceil(10))
            || i + 1 == self.total
        {
            // Not a terminal (a log): every step of short runs, every tenth of long ones.
            let _ = writeln!(err, "[{}/{}] {what}", i + 1, self.total);
        }
    }

    pub fn done(&self) {
        if self.tty {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}

/// Times `layer` on `isa` (median of runs within `budget`, inputs rotated so no run finds its
/// data in cache) and its memory floor (a quarter of the budget, the same rotation), then
/// times the reference once and compares every output with it.
pub fn measure(
    name: &str,
    layer: &MixConv,
    shape: Shape,
    ctx: &Context,
    budget: Duration,
) -> Result<Row, String> {
    let isa = ctx.isa;
    let weights = bench::random_weights(layer, 1).map_err(|e| e.to_string())?;
    let plan = Plan::new(layer, &weights, shape, isa).map_err(|e| e.to_string())?;
    let mut buffers = bench::Buffers::for_plan(&plan);
    let threads = ctx.threads_arg();
    let (median, runs) =
        ctx.within(|| bench::median_time_within(5, 10_000, budget, || buffers.run_with(threads)));
    let (floor, _) = ctx.within(|| {
        bench::median_time_within(5, 10_000, budget / 4, || buffers.stream_with(isa, threads))
    });

    let input = &buffers.inputs[0];
    let mut expected = vec![0.0; plan.output_len()];
    let start = Instant::now();
    reference::mixconv(layer, &weights, shape, input, &mut expected).map_err(|e| e.to_string())?;
    let reference = start.elapsed();
    let mut got = vec![0.0; plan.output_len()];
    plan.run(input, &mut got).map_err(|e| e.to_string())?;
    let max_abs_error = got
        .iter()
        .zip(&expected)
        .map(|(a, b)| (a - b).abs() as f64)
        .fold(
            0.0,
            |m: f64, e| if e.is_nan() { f64::INFINITY } else { m.max(e) },
        );

    Ok(Row {
        name: name.to_string(),
        batch: shape.batch,
        h: shape.height,
        w: shape.width,
        channels: layer.channels(),
        stride: layer.stride_value(),
        kernels: layer.kernels().to_vec(),
        splits: plan.groups().iter().map(|g| g.group.channels).collect(),
        dilations: layer.dilation_list().to_vec(),
        microkernels: plan
            .groups()
            .iter()
            .map(|g| g.microkernel.to_string())
            .collect(),
        macs: plan.macs(),
        median,
        runs,
        floor,
        reference,
        max_abs_error,
    })
}

fn list(v: &[usize]) -> String {
    v.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// The rows' summed median times, multiply-adds and memory floors.
fn total(rows: &[Row]) -> (Duration, u64, Duration) {
    (
        rows.iter().map(|r| r.median).sum(),
        rows.iter().map(|r| r.macs).sum(),
        rows.iter().map(|r| r.floor).sum(),
    )
}

/// How many times its memory floor a time is.
fn over(time: Duration, floor: Duration) -> f64 {
    time.as_secs_f64() / floor.as_secs_f64().max(1e-12)
}

/// The header lines: CPU, features, ISAs, the one chosen, its peak, threads.
pub fn header(ctx: &Context) -> String {
    let isas: Vec<String> = mixconv::available_isas()
        .iter()
        .map(|i| i.to_string())
        .collect();
    format!(
        "cpu: {}\nfeatures: {}\nisas available: {}; chosen: {} ({} f32 lanes)\n\
         f32 FMA peak, {}: {:.1} GFLOP/s per core (measured); threads: {}, % peak is of {:.1} GFLOP/s\n",
        bench::cpu_name(),
        mixconv::cpu_features().join(" "),
        isas.join(", "),
        ctx.isa,
        ctx.isa.lanes(),
        ctx.isa,
        ctx.peak_gflops / ctx.threads as f64,
        ctx.threads,
        ctx.peak_gflops
    )
}

/// The table of `rows` and their total.
pub fn table(ctx: &Context, rows: &[Row]) -> String {
    let heads = [
        "layer",
        "input NxHxWxC",
        "stride",
        "kernels",
        "channels",
        "microkernels",
        "median us",
        "GFLOP/s",
        "% peak",
        "floor us",
        "x floor",
        "x ref",
        "max |err|",
    ];
    let mut cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let gflops = bench::gflops(r.macs, r.median);
            let dil = if r.dilations.iter().any(|&d| d != 1) {
                format!(" d{}", list(&r.dilations))
            } else {
                String::new()
            };
            vec![
                r.name.clone(),
                format!("{}x{}x{}x{}", r.batch, r.h, r.w, r.channels),
                r.stride.to_string(),
                format!("{}{dil}", list(&r.kernels)),
                list(&r.splits),
                r.microkernels.join(","),
                format!("{:.1}", r.median.as_secs_f64() * 1e6),
                format!("{gflops:.2}"),
                format!("{:.1}", ctx.pct(gflops)),
                format!("{:.1}", r.floor.as_secs_f64() * 1e6),
                format!("{:.2}", over(r.median, r.floor)),
                format!(
                    "{:.1}",
                    r.reference.as_secs_f64() / r.median.as_secs_f64().max(1e-12)
                ),
                format!("{:.1e}", r.max_abs_error),
            ]
        })
        .collect();
    let (time, macs, floor) = total(rows);
    let gflops = bench::gflops(macs, time);
    let reference: Duration = rows.iter().map(|r| r.reference).sum();
    let max_err = rows.iter().map(|r| r.max_abs_error).fold(0.0, f64::max);
    cells.push(vec![
        format!("total ({} layers)", rows.len()),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        format!("{:.1}", time.as_secs_f64() * 1e6),
        format!("{gflops:.2}"),
        format!("{:.1}", ctx.pct(gflops)),
        format!("{:.1}", floor.as_secs_f64() * 1e6),
        format!("{:.2}", over(time, floor)),
        format!(
            "{:.1}",
            reference.as_secs_f64() / time.as_secs_f64().max(1e-12)
        ),
        format!("{max_err:.1e}"),
    ]);
    let widths: Vec<usize> = (0..heads.len())
        .map(|c| {
            cells
                .iter()
                .map(|row| row[c].len())
                .chain([heads[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let numeric = |c: usize| c == 2 || c >= 6;
    let line = |row: &[String]| -> String {
        row.iter()
            .enumerate()
            .map(|(c, s)| {
                if numeric(c) {
                    format!("{s:>w$}", w = widths[c])
                } else {
                    format!("{s:<w$}", w = widths[c])
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = line(&heads.map(String::from));
    out.push('\n');
    out.push_str(&line(
        &widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>(),
    ));
    out.push('\n');
    for (i, row) in cells.iter().enumerate() {
        if i + 1 == cells.len() {
            out.push_str(&line(
                &widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>(),
            ));
            out.push('\n');
        }
        out.push_str(&line(row));
        out.push('\n');
    }
    out
}

/// The report as one JSON object; keys are a stable interface for scripts.
pub fn json(ctx: &Context, rows: &[Row]) -> serde_json::Value {
    let layers: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let gflops = bench::gflops(r.macs, r.median);
            json!({
                "name": r.name,
                "batch": r.batch,
                "h": r.h,
                "w": r.w,
                "channels": r.channels,
                "stride": r.stride,
                "kernels": r.kernels,
                "splits": r.splits,
                "dilations": r.dilations,
                "microkernels": r.microkernels,
                "macs": r.macs,
                "runs": r.runs,
                "median_us": r.median.as_secs_f64() * 1e6,
                "gflops": gflops,
                "pct_peak": ctx.pct(gflops),
                "floor_us": r.floor.as_secs_f64() * 1e6,
                "over_floor": over(r.median, r.floor),
                "reference_us": r.reference.as_secs_f64() * 1e6,
                "speedup_vs_reference": r.reference.as_secs_f64() / r.median.as_secs_f64().max(1e-12),
                "max_abs_error": r.max_abs_error,
            })
        })
        .collect();
    let (time, macs, floor) = total(rows);
    let gflops = bench::gflops(macs, time);
    json!({
        "cpu": bench::cpu_name(),
        "features": mixconv::cpu_features(),
        "isa": ctx.isa.name(),
        "threads": ctx.threads,
        "peak_gflops": ctx.peak_gflops,
        "layers": layers,
        "total": {
            "median_us": time.as_secs_f64() * 1e6,
            "gflops": gflops,
            "pct_peak": ctx.pct(gflops),
            "floor_us": floor.as_secs_f64() * 1e6,
            "over_floor": over(time, floor),
            "macs": macs,
        },
    })
}

/// Measures every `(name, layer, shape)` and prints the table or the JSON object.
pub fn report(
    ctx: &Context,
    layers: &[(String, MixConv, Shape)],
    json_out: bool,
    budget: Duration,
) -> Result<(), String> {
    if !json_out {
        print!("{}", header(ctx));
        println!();
    }
    let progress = Progress::new(layers.len());
    let mut rows = Vec::with_capacity(layers.len());
    for (i, (name, layer, shape)) in layers.iter().enumerate() {
        progress.step(i, &format!("{name}: timing {} and the reference", ctx.isa));
        rows.push(measure(name, layer, *shape, ctx, budget)?);
    }
    progress.done();
    if json_out {
        println!(
            "{}",
            serde_json::to_string_pretty(&json(ctx, &rows)).expect("JSON")
        );
    } else {
        print!("{}", table(ctx, &rows));
    }
    Ok(())
}
