//! NumPy `.npy` files of f32: reading (little- or big-endian, C order) and writing (`<f4`).

/// An f32 array read from a `.npy` file.
#[derive(Debug)]
pub struct Array {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

const MAGIC: &[u8] = b"\x93NUMPY";

/// Parses `.npy` bytes; `what` names the file or array in error messages.
pub fn parse(bytes: &[u8], what: &str) -> Result<Array, String> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(format!("{what}: not a .npy file (no \\x93NUMPY magic)"));
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(format!("{what}: unsupported .npy format version {v}")),
    };
    let header = bytes
        .get(start..start + header_len)
        .ok_or_else(|| format!("{what}: truncated .npy header"))?;
    let header =
        std::str::from_utf8(header).map_err(|_| format!("{what}: .npy header is not text"))?;
    let descr = string_value(header, "descr")
        .ok_or_else(|| format!("{what}: .npy header has no 'descr'"))?;
    let big_endian = match descr {
        "<f4" | "=f4" => false,
        ">f4" => true,
        other => {
            return Err(format!(
                "{what}: dtype {} ('{other}') is not float32 ('<f4')",
                dtype_name(other)
            ));
        }
    };
    if raw_value(header, "fortran_order").is_some_and(|v| v.starts_with("True")) {
        return Err(format!(
            "{what}: Fortran-ordered array; save a C-ordered one (np.ascontiguousarray)"
        ));
    }
    let shape =
        shape_value(header).ok_or_else(|| format!("{what}: .npy header has no valid 'shape'"))?;
    let count = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| format!("{what}: shape {} overflows", shape_text(&shape)))?;
    let payload = &bytes[start + header_len..];
    if payload.len() != count * 4 {
        return Err(format!(
            "{what}: shape {} needs {} bytes of data, the file holds {}",
            shape_text(&shape),
            count * 4,
            payload.len()
        ));
    }
    let data = payload
        .chunks_exact(4)
        .map(|b| {
            let b = [b[0], b[1], b[2], b[3]];
            if big_endian {
                f32::from_be_bytes(b)
            } else {
                f32::from_le_bytes(b)
            }
        })
        .collect();
    Ok(Array { shape, data })
}

/// `.npy` bytes (format 1.0, `<f4`, C order) of `data` with `shape`.
pub fn to_bytes(shape: &[usize], data: &[f32]) -> Vec<u8> {
    let mut header = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': {}, }}",
        shape_text(shape)
    );
    // Pad with spaces so that the data starts on a 64-byte boundary; end with a newline.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + data.len() * 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// A shape as Python prints a tuple: `(2, 3)`, `(5,)`, `()`.
pub fn shape_text(shape: &[usize]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn dtype_name(descr: &str) -> &'static str {
    match descr.trim_start_matches(['<', '>', '=', '|']) {
        "f8" => "float64",
        "f2" => "float16",
        "i1" => "int8",
        "i2" => "int16",
        "i4" => "int32",
        "i8" => "int64",
        "u1" => "uint8",
        "u2" => "uint16",
        "u4" => "uint32",
        "u8" => "uint64",
        "b1" => "bool",
        "f4" => "big-endian float32",
        _ => "non-float32",
    }
}

/// The text after `'key':` in a header dict.
fn raw_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    for quote in ['\'', '"'] {
        let pattern = format!("{quote}{key}{quote}");
        if let Some(i) = header.find(&pattern) {
            let rest = header[i + pattern.len()..].trim_start();
            return rest.strip_prefix(':').map(str::trim_start);
        }
    }
    None
}

fn string_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let rest = raw_value(header, key)?;
    let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let rest = &rest[1..];
    rest.find(quote).map(|end| &rest[..end])
}

fn shape_value(header: &str) -> Option<Vec<usize>> {
    let rest = raw_value(header, "shape")?.strip_prefix('(')?;
    let inner = &rest[..rest.find(')')?];
    inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches('L').parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let bytes = to_bytes(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!((bytes.len() - 24) % 64, 0);
        let a = parse(&bytes, "x").unwrap();
        assert_eq!(a.shape, [2, 3]);
        assert_eq!(a.data[5], 6.0);
        assert_eq!(shape_text(&[7]), "(7,)");
        let mut f64_header = bytes.clone();
        let at = f64_header.windows(3).position(|w| w == b"<f4").unwrap();
        f64_header[at + 2] = b'8';
        let e = parse(&f64_header, "x.npy").unwrap_err();
        assert!(e.contains("float64"), "{e}");
        assert!(parse(&bytes[..bytes.len() - 4], "x").is_err());
    }
}
