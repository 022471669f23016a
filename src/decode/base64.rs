//! base64 and base64url (chain `base64`).
//!
//! Kubernetes `Secret` manifests keep every value in base64, Docker's
//! `config.json` stores `auth` as base64 of `user:token`, `.npmrc` has
//! `_auth`, CI variables and Helm values carry whole base64'd `.env` files.
//! A regex sees none of it. This decoder takes every run of base64
//! characters of at least [`MIN_CHARS`] (one alphabet: `+/` or `-_`, never
//! both; a length base64 allows; line-wrapped blocks joined), decodes the
//! first few bytes and gives up unless they read as text, then decodes the
//! whole run and keeps it only if it is mostly printable and has no NUL.
//! Images, hashes, identifiers and keys themselves decode to binary and are
//! dropped after a few dozen bytes of work. Kept runs go into one view, each
//! on its own line after the text that preceded it (`OPENAI_API_KEY: `), so
//! context rules still see their keyword.

use base64::Engine as _;
use base64::alphabet::{STANDARD, URL_SAFE};
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::map::ViewBuf;
use super::{Limits, View, ascii_between, cap, context_start, finish, mostly_text};

/// Shortest run taken for base64 (18 decoded bytes).
const MIN_CHARS: usize = super::marks::MIN_RUN;
/// Longest run decoded; longer ones are images or archives, not secrets.
const MAX_CHARS: usize = 4 << 20;
/// Wrapped lines shorter than this are not joined with the next one.
const MIN_WRAP: usize = 60;

const DIGIT: u8 = 1;
const STD: u8 = 2;
const URL: u8 = 4;
const UPPER: u8 = 8;
const LOWER: u8 = 16;
/// Both alphabets' specials in one run: not base64.
const MIXED: u8 = STD | URL;

static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = if b.is_ascii_digit() {
            DIGIT
        } else if b.is_ascii_uppercase() {
            UPPER
        } else if b.is_ascii_lowercase() {
            LOWER
        } else if b == b'+' || b == b'/' {
            STD
        } else if b == b'-' || b == b'_' {
            URL
        } else {
            0
        };
        i += 1;
    }
    t
};

const CONFIG: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
/// Built once: building an engine fills its decode tables.
static STD_ENGINE: GeneralPurpose = GeneralPurpose::new(&STANDARD, CONFIG);
static URL_ENGINE: GeneralPurpose = GeneralPurpose::new(&URL_SAFE, CONFIG);

/// A maximal run of base64 characters at `start..end`, then `pad` `=`s.
struct Run {
    start: usize,
    end: usize,
    pad: usize,
    class: u8,
}

fn run_at(bytes: &[u8], mut i: usize) -> Run {
    let start = i;
    let mut class = 0;
    while let Some(&b) = bytes.get(i) {
        let c = CLASS[b as usize];
        if c == 0 {
            break;
        }
        class |= c;
        i += 1;
    }
    let pad = bytes.get(i..).unwrap_or_default().iter().take(2).take_while(|&&b| b == b'=').count();
    Run { start, end: i, pad, class }
}

/// Whether the ASCII `run` has an uppercase and a lowercase letter, eight
/// bytes at a time (most long runs in source code are `snake_case` or
/// `UPPER_CASE` identifiers and paths, read here at a third of the cost of
/// a byte-by-byte look).
fn has_both_cases(run: &[u8]) -> bool {
    let (mut upper, mut lower) = (0, 0);
    for chunk in run.chunks_exact(8) {
        let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        upper |= ascii_between(x, b'A' - 1, b'Z' + 1);
        lower |= ascii_between(x, b'a' - 1, b'z' + 1);
    }
    // The last eight bytes, overlapping what was read (no copy into a
    // padded buffer: a byte-wise copy read back whole stalls the load).
    let x = match run.len().checked_sub(8) {
        Some(last) => u64::from_le_bytes(run[last..].try_into().expect("8 bytes")),
        None => {
            let mut tail = [b'0'; 8];
            tail[..run.len()].copy_from_slice(run);
            u64::from_le_bytes(tail)
        }
    };
    upper |= ascii_between(x, b'A' - 1, b'Z' + 1);
    lower |= ascii_between(x, b'a' - 1, b'z' + 1);
    upper != 0 && lower != 0
}

/// The value of each base64 digit, either alphabet (`+` and `-` are 62,
/// `/` and `_` 63; a run mixing them was dropped already).
static SEXTET: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 26 {
        t[b'A' as usize + i] = i as u8;
        t[b'a' as usize + i] = 26 + i as u8;
        i += 1;
    }
    let mut d = 0;
    while d < 10 {
        t[b'0' as usize + d] = 52 + d as u8;
        d += 1;
    }
    (t[b'+' as usize], t[b'-' as usize], t[b'/' as usize], t[b'_' as usize]) = (62, 62, 63, 63);
    t
};

/// A first look at whether `head` (whole quads of base64 digits) decodes
/// to text, a quad at a time, stopping once [`mostly_text`] could no
/// longer hold: it counts only bytes that are bad whatever comes next (an
/// ASCII control, a byte never in UTF-8, a continuation byte after a byte
/// that takes none, a leading byte before one that is no continuation).
/// Camel-case identifiers, most of the runs looked at, decode to binary
/// that fails within a few quads.
fn head_may_be_text(head: &[u8]) -> bool {
    let limit = head.len() / 4 * 3 / 10;
    let (mut bad, mut prev) = (0, 0u8);
    for quad in head.chunks_exact(4) {
        let v = quad.iter().fold(0u32, |v, &c| v << 6 | u32::from(SEXTET[c as usize]));
        for b in [(v >> 16) as u8, (v >> 8) as u8, v as u8] {
            let control = (b < b' ' && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7f;
            let never = matches!(b, 0xc0 | 0xc1 | 0xf5..=0xff);
            let continuation = b & 0xc0 == 0x80;
            // A continuation byte after ASCII (or first); a leading byte
            // before anything but a continuation byte.
            let lone = continuation && prev < 0x80;
            let cut = (0xc2..0xf5).contains(&prev) && !continuation;
            bad += usize::from(control || never || lone || cut);
            prev = b;
        }
        if bad > limit {
            return false;
        }
    }
    true
}

/// Decodes the base64 among `runs` (from [`super::marks::Marks`]).
pub(crate) fn decode(bytes: &[u8], runs: &[(usize, usize)], limits: &Limits) -> Option<View> {
    let mut view = ViewBuf::default();
    if runs.is_empty() {
        return None;
    }
    let mut chars: Vec<u8> = Vec::new();
    let mut pieces: Vec<(usize, usize)> = Vec::new();
    let mut decoded: Vec<u8> = Vec::new();
    let mut floor = 0;
    // Lines of a wrapped block already joined (see below).
    let mut settled = 0;
    for &(start, end) in runs {
        if start < floor.max(settled) || end - start < MIN_CHARS || view.len() >= cap(limits) {
            continue;
        }
        // base64 of text always mixes upper and lower case; identifiers,
        // constants and paths mostly do not, and are dropped after a quick
        // look.
        if !has_both_cases(&bytes[start..end]) {
            continue;
        }
        let class = bytes[start..end].iter().fold(0, |c, &b| c | CLASS[b as usize]);
        let pad = bytes[end..].iter().take(2).take_while(|&&b| b == b'=').count();
        let mut run = Run { start, end, pad, class };
        if run.class & MIXED == MIXED {
            continue;
        }
        pieces.clear();
        pieces.push((run.start, run.end));
        let mut end = run.end + run.pad;
        // Join line-wrapped base64 (`base64` wraps at 76, PEM at 64): lines
        // of one width holding nothing else, the last one possibly shorter.
        let mut class = run.class;
        let width = run.end - run.start;
        let alone = |r: &Run| matches!(bytes.get(r.end + r.pad), None | Some(b'\r' | b'\n'));
        let wraps = alone(&run) && run.pad == 0 && width.is_multiple_of(4) && width >= MIN_WRAP;
        while wraps && run.end - run.start == width {
            let mut j = run.end;
            if bytes.get(j) == Some(&b'\r') {
                j += 1;
            }
            if bytes.get(j) != Some(&b'\n') {
                break;
            }
            j += 1;
            while matches!(bytes.get(j), Some(b' ' | b'\t')) && j - run.end < 64 {
                j += 1;
            }
            let next = run_at(bytes, j);
            let len = next.end - next.start;
            if len == 0 || len > width || !alone(&next) || (class | next.class) & MIXED == MIXED {
                break;
            }
            class |= next.class;
            pieces.push((next.start, next.end));
            end = next.end + next.pad;
            run = next;
        }
        if pieces.len() > 1 {
            // The block's lines are settled with it, kept or not: walking
            // forward again from each of them would be quadratic.
            settled = settled.max(end);
        }
        let total: usize = pieces.iter().map(|&(s, e)| e - s).sum();
        if total > MAX_CHARS || (total + run.pad) % 4 == 1 || (run.pad > 0 && !(total + run.pad).is_multiple_of(4)) {
            continue;
        }
        let engine = if class & URL != 0 { &URL_ENGINE } else { &STD_ENGINE };
        // Cheap rejection: the first 32 characters must decode to text.
        let head = &bytes[pieces[0].0..pieces[0].1];
        let head = &head[..head.len().min(32) / 4 * 4];
        if !head_may_be_text(head) {
            continue;
        }
        decoded.clear();
        if engine.decode_vec(head, &mut decoded).is_err() || !mostly_text(&decoded) {
            continue;
        }
        chars.clear();
        for &(s, e) in &pieces {
            chars.extend_from_slice(&bytes[s..e]);
        }
        decoded.clear();
        if engine.decode_vec(&chars, &mut decoded).is_err() || !mostly_text(&decoded) {
            continue;
        }
        let ctx = context_start(bytes, pieces[0].0, floor);
        view.copy(&bytes[ctx..pieces[0].0], ctx);
        // Every piece but the last is a multiple of 4 characters, so piece
        // `k` decodes to the bytes from 3/4 of its character offset on.
        let mut offset = 0;
        for &(s, e) in &pieces {
            let from = (offset / 4 * 3).min(decoded.len());
            offset += e - s;
            let to = if offset == total { decoded.len() } else { (offset / 4 * 3).min(decoded.len()) };
            view.ratio(&decoded[from..to], s, 3, 4);
        }
        view.point(b"\n", run.end);
        floor = end;
    }
    finish(view, "base64")
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};

    fn decode(text: &[u8], limits: &Limits) -> Option<View> {
        super::decode(text, &super::super::marks::Marks::find(text).runs, limits)
    }

    const KEY: &str = "sk-proj-Zq8Lm2Xv9Tb4Nc7Rk1Wp5Ys3Hd6Fg0JxT3BlbkFJAa1Bb2Cc3Dd4Ee5Ff6Gg7"; // leakhound:allow (a fake)

    #[test]
    fn case_check_matches_the_definition() {
        let both = |r: &[u8]| r.iter().any(u8::is_ascii_uppercase) && r.iter().any(u8::is_ascii_lowercase);
        let words: [&[u8]; 9] = [
            b"snake_case_identifier_name",
            b"UPPER_CASE_CONSTANT_NAME_X",
            b"CamelCaseTypeNameGoesHere",
            b"path/to/some_file-name+x",
            b"aaaaaaaaaaaaaaaaaaaaaaaaZ",
            b"Zaaaaaaaaaaaaaaaaaaaaaaaa",
            b"@[`{0123456789_-+/@[`{",
            b"",
            b"aZ",
        ];
        for w in words {
            assert_eq!(has_both_cases(w), both(w), "{}", String::from_utf8_lossy(w));
        }
        // Every pair of ASCII bytes at every position of a 9-byte run.
        for a in 0..128u8 {
            for b in [b'A', b'Z', b'a', b'z', b'@', b'[', b'`', b'{', b'5'] {
                for at in 0..9 {
                    let mut run = [b'0'; 9];
                    run[at] = a;
                    run[(at + 4) % 9] = b;
                    assert_eq!(has_both_cases(&run), both(&run), "{run:?}");
                }
            }
        }
    }

    #[test]
    fn wrapped_blocks_that_are_not_text_cost_one_pass() {
        // 80-character lines of base64 of binary: each line starts a join
        // through all the lines after it unless the block is settled once.
        let mut state = 7u64;
        let binary: Vec<u8> = (0..3 << 20)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (state >> 56) as u8
            })
            .collect();
        let enc = B64.encode(&binary);
        let text: String =
            enc.as_bytes().chunks(80).map(|c| format!("{}\n", std::str::from_utf8(c).unwrap())).collect();
        let t = std::time::Instant::now();
        assert!(decode(text.as_bytes(), &Limits::default()).is_none());
        // A hang guard (quadratic took minutes on 4 MB), not a benchmark.
        assert!(t.elapsed().as_secs() < 10, "{:?}", t.elapsed());
    }

    #[test]
    fn the_head_check_never_drops_what_mostly_text_keeps() {
        // Random heads (mostly rejected by both) and heads of text in
        // several scripts (kept by both).
        let mut state = 0x853c_49e6_748f_ea9bu64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let texts = [
            "plain ascii text, with a key: sk-ant-api03-",
            "naïve café — ünïcödé ✓",
            "日本語のテキストと鍵です。",
            "tab\tand\r\nnewlines",
        ];
        let mut rejected = 0;
        for round in 0..20_000 {
            let raw: Vec<u8> = match round % 5 {
                4 => texts[round / 5 % texts.len()].as_bytes().to_vec(),
                _ => (0..24).map(|_| next() as u8).collect(),
            };
            let head = B64.encode(&raw[..raw.len().min(24)]);
            let head = &head.as_bytes()[..head.len() / 4 * 4];
            let decoded = B64.decode(head).unwrap();
            if !head_may_be_text(head) {
                rejected += 1;
                assert!(!mostly_text(&decoded), "{raw:?}");
            }
        }
        // It does its job: most random heads stop here.
        assert!(rejected > 12_000, "{rejected}");
    }

    #[test]
    fn the_shortest_key_alone_decodes() {
        // An AWS access key id (20 characters, the shortest key of any
        // rule) is 27 base64 characters and a `=`: the shortest run taken.
        let key = "AKIAZ7Q2X4M9N3B6V8C1";
        for encoded in [B64.encode(key), B64URL.encode(key)] {
            assert_eq!(encoded.trim_end_matches('=').len(), super::super::marks::MIN_RUN);
            let text = format!("id: {encoded}\n");
            let view = decode(text.as_bytes(), &Limits::default()).unwrap();
            assert!(String::from_utf8(view.bytes).unwrap().contains(key), "{encoded}");
        }
    }

    #[test]
    fn kubernetes_secret_values_decode() {
        let text =
            format!("apiVersion: v1\nkind: Secret\ndata:\n  OPENAI_API_KEY: {}\n  PORT: ODA4MA==\n", B64.encode(KEY));
        let view = decode(text.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(view.chain, ["base64"]);
        let s = String::from_utf8(view.bytes.clone()).unwrap();
        assert_eq!(s, format!("  OPENAI_API_KEY: {KEY}\n"));
        let k = s.find("sk-").unwrap();
        let tok = text.find(&B64.encode(KEY)).unwrap();
        assert_eq!(view.map.to_original(k), tok);
        // Byte 3 of the key starts at character 4 of the token.
        assert_eq!(view.map.to_original(k + 3), tok + 4);
        assert_eq!(view.map.to_original(k + 4), tok + 5);
    }

    #[test]
    fn docker_auth_and_base64url() {
        let auth = B64.encode(format!("octocat:ghp_{}", "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5"));
        let text = format!("{{\"auths\":{{\"ghcr.io\":{{\"auth\":\"{auth}\"}}}}}}");
        let view = decode(text.as_bytes(), &Limits::default()).unwrap();
        assert!(
            String::from_utf8(view.bytes)
                .unwrap()
                .ends_with("\"auth\":\"octocat:ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5\n") // leakhound:allow
        );
        let enc = B64URL.encode("token=???>>>???>>> and more text here");
        assert!(enc.contains('_') || enc.contains('-'));
        let view = decode(enc.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(view.bytes, b"token=???>>>???>>> and more text here\n");
    }

    #[test]
    fn wrapped_base64_is_joined() {
        let secret = format!("OPENAI_API_KEY={KEY}\nOTHER=1\n").repeat(3);
        let enc = B64.encode(&secret);
        let wrapped: Vec<&str> = enc.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap()).collect();
        let text = format!("blob: |\n  {}\n", wrapped.join("\n  "));
        let view = decode(text.as_bytes(), &Limits::default()).unwrap();
        let s = String::from_utf8(view.bytes.clone()).unwrap();
        assert!(s.ends_with(&format!("{secret}\n")));
        // A byte in the second line maps into the second line.
        let k = s.find(&secret).unwrap() + 57 + 3;
        let second = text.find(wrapped[1]).unwrap();
        assert_eq!(view.map.to_original(k), second + 4);
    }

    #[test]
    fn binary_keys_paths_and_credentials_urls_give_nothing() {
        let img =
            B64.encode([0x89u8, b'P', b'N', b'G', 0, 0, 0, 13, 0xff, 0xfe, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        let texts = [
            format!("data:image/png;base64,{img}"),
            format!("key = \"{KEY}\""),
            "https://octocat:ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5@github.com\n".into(), // leakhound:allow
            "/usr/lib/x86_64-linux-gnu/libssl.so.3 some_long_identifier_name_here".into(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".into(),
        ];
        for t in &texts {
            assert!(decode(t.as_bytes(), &Limits::default()).is_none(), "{t}");
        }
    }
}
