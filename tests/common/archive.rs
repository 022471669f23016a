//! Containers built in memory for tests: zip, tar, gzip, bzip2, xz, zstd,
//! lz4, CRX, asar and PDF, and bombs that cost nothing to build (one
//! compressed MiB of zeros repeated, zstd RLE blocks).

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

pub fn bzip2(bytes: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

pub fn xz(bytes: &[u8]) -> Vec<u8> {
    let mut w = lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(6)).unwrap();
    w.write_all(bytes).unwrap();
    w.finish().unwrap()
}

pub fn zstd(bytes: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(bytes, ruzstd::encoding::CompressionLevel::Fastest)
}

pub fn lz4(bytes: &[u8]) -> Vec<u8> {
    let mut e = lz4_flex::frame::FrameEncoder::new(Vec::new());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A zstd frame of `mib` MiB of zeros in 4-byte RLE blocks of 128 KiB:
/// 1 GiB costs 32 KiB, and nothing to compress.
pub fn zstd_zeros(mib: usize) -> Vec<u8> {
    // Magic, then a frame header holding only a window descriptor (128 KiB).
    let mut out = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38];
    let blocks = mib * 8;
    for i in 0..blocks {
        let last = u32::from(i + 1 == blocks);
        let header = ((128 << 10) << 3) | (1 << 1) | last;
        out.extend(&header.to_le_bytes()[..3]);
        out.push(0);
    }
    out
}

/// A CRX3 Chrome extension: `Cr24`, version 3, a header of `header` bytes
/// (zeros standing for the protobuf) declared as `declared` bytes, the zip.
pub fn crx3(zip: &[u8], header: usize, declared: u32) -> Vec<u8> {
    let mut out = b"Cr24".to_vec();
    out.extend(3u32.to_le_bytes());
    out.extend(declared.to_le_bytes());
    out.extend(vec![0u8; header]);
    out.extend(zip);
    out
}

/// A CRX2: `Cr24`, version 2, key and signature lengths, both, the zip.
pub fn crx2(zip: &[u8]) -> Vec<u8> {
    let mut out = b"Cr24".to_vec();
    for v in [2u32, 162, 128] {
        out.extend(v.to_le_bytes());
    }
    out.extend(vec![7u8; 162 + 128]);
    out.extend(zip);
    out
}

/// An Electron `app.asar` of `files` (path, contents), laid out as
/// `@electron/asar` writes it: the size pickle, the JSON header pickle
/// (padded to 4 bytes), the file data.
pub fn asar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut root = serde_json::json!({"files": {}});
    let mut data: Vec<u8> = Vec::new();
    for (path, body) in files {
        let mut node = &mut root;
        let parts: Vec<&str> = path.split('/').collect();
        for dir in &parts[..parts.len() - 1] {
            node = &mut node["files"][*dir];
            if node.get("files").is_none() {
                *node = serde_json::json!({"files": {}});
            }
        }
        node["files"][parts[parts.len() - 1]] =
            serde_json::json!({"size": body.len(), "offset": data.len().to_string()});
        data.extend(*body);
    }
    let json = serde_json::to_vec(&root).unwrap();
    let padded = json.len().div_ceil(4) * 4;
    let mut out = Vec::new();
    for v in [4, padded + 8, padded + 4, json.len()] {
        out.extend((v as u32).to_le_bytes());
    }
    out.extend(&json);
    out.resize(16 + padded, 0);
    out.extend(data);
    out
}

/// A PDF of `objects` numbered from 1: (dictionary, stream data or none).
pub fn pdf_of(objects: &[(&str, Option<&[u8]>)]) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    for (i, (dict, data)) in objects.iter().enumerate() {
        write!(out, "{} 0 obj\n{dict}\n", i + 1).unwrap();
        if let Some(data) = data {
            out.extend(b"stream\n");
            out.extend(*data);
            out.extend(b"\nendstream\n");
        }
        out.extend(b"endobj\n");
    }
    out.extend(b"trailer\n<< /Root 1 0 R >>\n%%EOF\n");
    out
}

/// zlib (a PDF's `FlateDecode`).
pub fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}
