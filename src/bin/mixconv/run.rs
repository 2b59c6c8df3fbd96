//! `mixconv run`: one layer on files (input .npy, weights .npz), output written as .npy.
//! Every problem is reported before the output file is touched.

use crate::args::{self, RunArgs};
use crate::npy::{self, shape_text};
use crate::npz;
use mixconv::{Plan, Shape, Weights};
use std::path::Path;

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Runs the layer and writes the output; an error leaves the output file unwritten.
pub fn run(a: &RunArgs) -> Result<(), String> {
    let isa = args::isa(&a.isa)?;
    if a.groups.kernels.is_empty() {
        return Err("--kernels is required (e.g. --kernels 3,5,7)".into());
    }
    if !a.groups.dilations.is_empty() && a.groups.dilations.len() != a.groups.kernels.len() {
        return Err(format!(
            "--dilations gives {} values for {} kernels",
            a.groups.dilations.len(),
            a.groups.kernels.len()
        ));
    }
    let in_name = a.input.display().to_string();
    let x = npy::parse(&read(&a.input)?, &in_name)?;
    let (batch, h, w, c) = match x.shape[..] {
        [h, w, c] => (1, h, w, c),
        [n, h, w, c] => (n, h, w, c),
        _ => {
            return Err(format!(
                "{in_name}: shape {} is not (N, H, W, C) or (H, W, C)",
                shape_text(&x.shape)
            ));
        }
    };
    let layer = a.groups.layer(c)?;
    let shape = Shape::new(batch, h, w);
    let (out_h, out_w) = layer
        .output_size(h, w)
        .map_err(|e| format!("{in_name}: {h}x{w} input: {e}"))?;
    let sizes = layer.group_channels().map_err(|e| e.to_string())?;

    let w_name = a.weights.display().to_string();
    let mut members = npz::read(&read(&a.weights)?, &w_name)?;
    let mut groups = Vec::with_capacity(sizes.len());
    for (g, (&cg, &k)) in sizes.iter().zip(layer.kernels()).enumerate() {
        let key = format!("g{g}");
        let i = members.iter().position(|(n, _)| *n == key).ok_or_else(|| {
            format!("{w_name}: missing array {key} (group {g}: kernel {k}, {cg} channels)")
        })?;
        let (_, bytes) = members.swap_remove(i);
        let arr = npy::parse(&bytes, &format!("{w_name}: {key}"))?;
        if arr.shape != [k, k, cg] {
            return Err(format!(
                "{w_name}: {key} has shape {}, expected {} (group {g}: kernel {k}, {cg} channels)",
                shape_text(&arr.shape),
                shape_text(&[k, k, cg])
            ));
        }
        groups.push(arr.data);
    }
    if let Some((name, _)) = members.iter().find(|(n, _)| {
        n.strip_prefix('g')
            .is_some_and(|d| d.parse::<usize>().is_ok())
    }) {
        return Err(format!(
            "{w_name}: array {name} has no group: --kernels gives {} groups",
            sizes.len()
        ));
    }
    let mut weights = Weights::hwc(groups);
    if let Some((_, bytes)) = members.iter().find(|(n, _)| n == "bias") {
        let bias = npy::parse(bytes, &format!("{w_name}: bias"))?;
        if bias.shape != [c] {
            return Err(format!(
                "{w_name}: bias has shape {}, expected ({c},)",
                shape_text(&bias.shape)
            ));
        }
        weights = weights.with_bias(bias.data);
    }

    let plan = Plan::new(&layer, &weights, shape, isa).map_err(|e| e.to_string())?;
    let mut y = vec![0.0; plan.output_len()];
    plan.run(&x.data, &mut y).map_err(|e| e.to_string())?;
    let out_shape: Vec<usize> = if x.shape.len() == 3 {
        vec![out_h, out_w, c]
    } else {
        vec![batch, out_h, out_w, c]
    };
    std::fs::write(&a.output, npy::to_bytes(&out_shape, &y))
        .map_err(|e| format!("cannot write {}: {e}", a.output.display()))
}
