//! `mixconv info`: this CPU, the ISAs it runs, their measured peaks, and a layer's plan.

use crate::args::{self, InfoArgs};
use mixconv::{Plan, bench};

pub fn info(a: &InfoArgs) -> Result<(), String> {
    let isa = args::isa(&a.isa)?;
    let (name, layer, shape) = a.layer.resolve()?;
    println!("cpu: {}", bench::cpu_name());
    println!("features: {}", mixconv::cpu_features().join(" "));
    println!(
        "isas available: {}; default: {}",
        mixconv::available_isas()
            .iter()
            .map(|i| i.name())
            .collect::<Vec<_>>()
            .join(", "),
        mixconv::default_isa().map_or_else(|e| e.to_string(), |i| i.to_string())
    );
    for i in mixconv::available_isas() {
        println!(
            "f32 FMA peak, 1 core, {i}: {:.1} GFLOP/s",
            bench::peak_gflops(i)
        );
    }
    let weights = bench::random_weights(&layer, 1).map_err(|e| e.to_string())?;
    let plan = Plan::new(&layer, &weights, shape, isa).map_err(|e| e.to_string())?;
    println!("layer {name}: {} MACs", plan.macs());
    print!("{plan}");
    Ok(())
}
