//! Archives built in memory for tests: zip, tar, gzip, and zip bombs that
//! cost nothing to build (one compressed MiB of zeros repeated).

use std::io::{Cursor, Write};

use flate2::Compression;
use flate2::write::{DeflateEncoder, GzEncoder};

pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        w.start_file(*name, opts).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

pub fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, body) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, *body).unwrap();
    }
    builder.into_inner().unwrap()
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// Raw deflate of `mib` MiB of zeros, built from one compressed MiB
/// repeated (sync-flushed blocks concatenate), so a bomb is cheap to make.
pub fn zeros_deflate(mib: usize) -> Vec<u8> {
    let mut e = DeflateEncoder::new(Vec::new(), Compression::best());
    e.write_all(&vec![0u8; 1 << 20]).unwrap();
    e.flush().unwrap();
    let one = e.get_ref().clone();
    let mut out = one.repeat(mib);
    out.extend([0x03, 0x00]); // final empty fixed block
    out
}

/// A zip with one deflated entry whose compressed data is given raw and
/// whose declared size is `size` (CRC left 0: a bomb is never read to its
/// end).
pub fn raw_zip(name: &str, data: &[u8], size: u32) -> Vec<u8> {
    let mut z = Vec::new();
    let header = |sig: u32, z: &mut Vec<u8>| {
        z.extend(sig.to_le_bytes());
        if sig == 0x0201_4b50 {
            z.extend(20u16.to_le_bytes());
        }
        for v in [20u16, 0, 8, 0, 0x21] {
            z.extend(v.to_le_bytes());
        }
        for v in [0u32, data.len() as u32, size] {
            z.extend(v.to_le_bytes());
        }
        z.extend((name.len() as u16).to_le_bytes());
        z.extend(0u16.to_le_bytes());
    };
    header(0x0403_4b50, &mut z);
    z.extend(name.as_bytes());
    z.extend(data);
    let cd = z.len();
    header(0x0201_4b50, &mut z);
    z.extend([0u8; 14]); // comment length, disk, attributes, local header at 0
    z.extend(name.as_bytes());
    let cd_size = z.len() - cd;
    z.extend(0x0605_4b50u32.to_le_bytes());
    z.extend([0u8; 4]);
    z.extend(1u16.to_le_bytes());
    z.extend(1u16.to_le_bytes());
    z.extend((cd_size as u32).to_le_bytes());
    z.extend((cd as u32).to_le_bytes());
    z.extend(0u16.to_le_bytes());
    z
}
