//! NumPy `.npz` archives: a zip of `.npy` members, stored (`np.savez`) or deflated
//! (`np.savez_compressed`), zip64 fields included (NumPy forces them on local headers).

/// The members of an archive as (array name without `.npy`, bytes), in archive order.
pub fn read(bytes: &[u8], what: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
    let bad = |why: &str| format!("{what}: not a valid .npz (zip) archive: {why}");
    let eocd = (0..=bytes.len().saturating_sub(22))
        .rev()
        .take(65_557)
        .find(|&i| u32_at(bytes, i) == Some(0x0605_4b50))
        .ok_or_else(|| bad("no end of central directory"))?;
    let mut entries = u16_at(bytes, eocd + 10).ok_or_else(|| bad("truncated"))? as u64;
    let mut cd_offset = u32_at(bytes, eocd + 16).ok_or_else(|| bad("truncated"))? as u64;
    if entries == 0xFFFF || cd_offset == 0xFFFF_FFFF {
        // Zip64: the locator sits just before the end record.
        let locator = eocd
            .checked_sub(20)
            .ok_or_else(|| bad("no zip64 locator"))?;
        if u32_at(bytes, locator) != Some(0x0706_4b50) {
            return Err(bad("no zip64 locator"));
        }
        let end64 = u64_at(bytes, locator + 8).ok_or_else(|| bad("truncated"))? as usize;
        if u32_at(bytes, end64) != Some(0x0606_4b50) {
            return Err(bad("no zip64 end record"));
        }
        entries = u64_at(bytes, end64 + 32).ok_or_else(|| bad("truncated"))?;
        cd_offset = u64_at(bytes, end64 + 48).ok_or_else(|| bad("truncated"))?;
    }
    let mut members = Vec::new();
    let mut at = cd_offset as usize;
    for _ in 0..entries {
        if u32_at(bytes, at) != Some(0x0201_4b50) {
            return Err(bad("broken central directory"));
        }
        let field16 = |o| u16_at(bytes, at + o).ok_or_else(|| bad("truncated"));
        let field32 = |o| u32_at(bytes, at + o).ok_or_else(|| bad("truncated"));
        let method = field16(10)?;
        let crc = field32(16)?;
        let mut compressed = field32(20)? as u64;
        let mut size = field32(24)? as u64;
        let (name_len, extra_len, comment_len) = (
            field16(28)? as usize,
            field16(30)? as usize,
            field16(32)? as usize,
        );
        let mut local = field32(42)? as u64;
        let name = bytes
            .get(at + 46..at + 46 + name_len)
            .ok_or_else(|| bad("truncated"))?;
        let name = String::from_utf8_lossy(name).into_owned();
        let extra = bytes
            .get(at + 46 + name_len..at + 46 + name_len + extra_len)
            .ok_or_else(|| bad("truncated"))?;
        zip64_sizes(extra, &mut size, &mut compressed, &mut local);
        at += 46 + name_len + extra_len + comment_len;

        let local = local as usize;
        if u32_at(bytes, local) != Some(0x0403_4b50) {
            return Err(bad("broken local header"));
        }
        let start = local
            + 30
            + u16_at(bytes, local + 26).ok_or_else(|| bad("truncated"))? as usize
            + u16_at(bytes, local + 28).ok_or_else(|| bad("truncated"))? as usize;
        let data = bytes
            .get(start..start + compressed as usize)
            .ok_or_else(|| bad(&format!("member {name} is truncated")))?;
        let data = match method {
            0 => data.to_vec(),
            8 => miniz_oxide::inflate::decompress_to_vec(data)
                .map_err(|_| bad(&format!("member {name} does not inflate")))?,
            m => {
                return Err(format!(
                    "{what}: member {name} uses zip compression method {m}; only stored and deflated are supported"
                ));
            }
        };
        if data.len() as u64 != size || crc32(&data) != crc {
            return Err(bad(&format!("member {name} fails its size or CRC check")));
        }
        let array = name.strip_suffix(".npy").unwrap_or(&name).to_string();
        members.push((array, data));
    }
    Ok(members)
}

/// Replaces the 0xFFFFFFFF fields by the zip64 extra field's values, in the order zip defines.
fn zip64_sizes(extra: &[u8], size: &mut u64, compressed: &mut u64, local: &mut u64) {
    let mut at = 0;
    while at + 4 <= extra.len() {
        let id = u16::from_le_bytes([extra[at], extra[at + 1]]);
        let len = u16::from_le_bytes([extra[at + 2], extra[at + 3]]) as usize;
        if id == 0x0001 {
            let mut field = at + 4;
            for value in [size, compressed, local] {
                if *value == 0xFFFF_FFFF {
                    if let Some(v) = u64_at(extra, field) {
                        *value = v;
                    }
                    field += 8;
                }
            }
            return;
        }
        at += 4 + len;
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// CRC-32 (IEEE) as zip uses it.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= byte as u32;
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    #[test]
    fn crc32_of_a_known_string() {
        assert_eq!(super::crc32(b"123456789"), 0xCBF4_3926);
    }
}
