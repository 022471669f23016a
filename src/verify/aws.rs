//! AWS keys come in two halves: an access key id (`AKIA…`) and a secret
//! access key. Neither can be checked alone; when both are found in the same
//! file, `sts:GetCallerIdentity` (free, read-only, needs no permission)
//! signed with Signature Version 4 tells whether the pair works.
//!
//! The signer follows AWS's published algorithm and is tested against a
//! vector of AWS's SigV4 test suite.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The STS request: global endpoint, form-encoded body.
pub const STS_URL: &str = "https://sts.amazonaws.com/";
pub const STS_HOST: &str = "sts.amazonaws.com";
pub const STS_BODY: &str = "Action=GetCallerIdentity&Version=2011-06-15";
pub const STS_CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// One request to sign. Header names must be lowercase; `host` and
/// `x-amz-date` must be among them.
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// `name=value` pairs, already URI-encoded.
    pub query: &'a [(&'a str, &'a str)],
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// The `Authorization` header value for `request`, signed at `amz_date`
/// (`YYYYMMDDTHHMMSSZ`).
pub fn authorization(
    request: &Request,
    access_key_id: &str,
    secret_access_key: &str,
    region: &str,
    service: &str,
    amz_date: &str,
) -> String {
    let mut query: Vec<&(&str, &str)> = request.query.iter().collect();
    query.sort();
    let canonical_query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut headers: Vec<(&str, &str)> = request.headers.to_vec();
    headers.sort();
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{}\n", v.trim())).collect();
    let signed_headers: Vec<&str> = headers.iter().map(|(k, _)| *k).collect();
    let signed_headers = signed_headers.join(";");
    let canonical_request = format!(
        "{}\n{}\n{}\n{canonical_headers}\n{signed_headers}\n{}",
        request.method,
        request.path,
        canonical_query.join("&"),
        hex::encode(Sha256::digest(request.body))
    );
    let date = &amz_date[..amz_date.len().min(8)];
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign =
        format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex::encode(Sha256::digest(canonical_request.as_bytes())));
    let k_date = hmac(format!("AWS4{secret_access_key}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    let signature = hex::encode(hmac(&k_signing, string_to_sign.as_bytes()));
    format!(
        "AWS4-HMAC-SHA256 Credential={access_key_id}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"
    )
}

/// The headers of a signed `sts:GetCallerIdentity` request at `amz_date`;
/// temporary credentials add their session token (signed too).
pub fn sts_headers(
    access_key_id: &str,
    secret_access_key: &str,
    session_token: Option<&str>,
    amz_date: &str,
) -> Vec<(String, String)> {
    let mut signed = vec![("content-type", STS_CONTENT_TYPE), ("host", STS_HOST), ("x-amz-date", amz_date)];
    if let Some(token) = session_token {
        signed.push(("x-amz-security-token", token));
    }
    let request = Request { method: "POST", path: "/", query: &[], headers: &signed, body: STS_BODY.as_bytes() };
    let auth = authorization(&request, access_key_id, secret_access_key, "us-east-1", "sts", amz_date);
    let mut headers = vec![
        ("Content-Type".to_string(), STS_CONTENT_TYPE.to_string()),
        ("X-Amz-Date".into(), amz_date.into()),
        ("Authorization".into(), auth),
    ];
    if let Some(token) = session_token {
        headers.push(("X-Amz-Security-Token".into(), token.into()));
    }
    headers
}

/// Temporary (STS) access key ids: they sign only with their session token.
pub fn is_temporary(access_key_id: &str) -> bool {
    access_key_id.starts_with("ASIA")
}

/// The AWS account an access key id belongs to, decoded from the id
/// without asking AWS: the 16 characters after the 4-letter prefix are
/// base32; bits 1..41 of the first 6 decoded bytes (big-endian, shifted
/// right by 7) are the account number. TruffleHog's
/// `GetAccountNumFromID`, after Tal Be'ery's "A short note on AWS KEY ID".
/// Old ids whose fifth character is `I` or `J` do not carry it.
pub fn account_id(access_key_id: &str) -> Option<String> {
    let tail = access_key_id.get(4..)?.as_bytes();
    if tail.len() != 16 || matches!(tail[0], b'I' | b'J') {
        return None;
    }
    let mut bits: u128 = 0;
    for &c in tail {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        bits = (bits << 5) | u128::from(v);
    }
    // 80 bits; the first 48 are the 6 bytes that hold the account.
    let first_48 = (bits >> 32) as u64;
    let account = (first_48 & 0x7fff_ffff_ff80) >> 7;
    Some(format!("{account:012}"))
}

/// AWS accounts that issue canary tokens: keys planted as tripwires, whose
/// every use (even `GetCallerIdentity`) alerts their owner. Thinkst
/// Canarytokens' accounts and those of the look-alike services, as listed
/// by TruffleHog (`pkg/detectors/aws/access_keys/canary.go`:
/// `thinkstCanaryList`, `thinkstKnockoffsCanaryList`).
pub const CANARY_ACCOUNTS: &[&str] = &[
    // Thinkst Canarytokens (canarytokens.org)
    "052310077262",
    "171436882533",
    "266735846894",
    "534261010715",
    "595918472158",
    "717712589309",
    "730335385048",
    "819147034852",
    "893192397702",
    "992382622183",
    // Off-brand canaries inspired by canarytokens.org
    "044858866125",
    "251535659677",
    "344043088457",
    "351906852752",
    "390477818340",
    "426127672474",
    "427150556519",
    "439872796651",
    "445142720921",
    "465867158099",
    "637958123769",
    "693412236332",
    "732624840810",
    "735421457923",
    "959235150393",
    "982842642351",
];

/// Whether `access_key_id` belongs to a known canary-token account.
pub fn is_canary(access_key_id: &str) -> bool {
    account_id(access_key_id).is_some_and(|a| CANARY_ACCOUNTS.contains(&a.as_str()))
}

/// The caller's ARN from a GetCallerIdentity answer.
pub fn arn(body: &str) -> Option<&str> {
    let start = body.find("<Arn>")? + 5;
    let end = body[start..].find("</Arn>")? + start;
    Some(&body[start..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS SigV4 test suite, `get-vanilla-query-order-key-case`.
    #[test]
    fn matches_the_aws_test_suite() {
        let request = Request {
            method: "GET",
            path: "/",
            query: &[("Param2", "value2"), ("Param1", "value1")],
            headers: &[("host", "example.amazonaws.com"), ("x-amz-date", "20150830T123600Z")],
            body: b"",
        };
        let auth = authorization(
            &request,
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "us-east-1",
            "service",
            "20150830T123600Z",
        );
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
        );
    }

    #[test]
    fn decodes_the_account_and_knows_canaries() {
        // Built as the decoder reads it: account 052310077262 (Thinkst) in
        // bits 1..41, then random bits.
        let id = key_id_for_account(52_310_077_262, 0x1234_5678);
        assert_eq!(account_id(&id).as_deref(), Some("052310077262"));
        assert!(is_canary(&id));
        let plain = key_id_for_account(123_456_789_012, 0x0bad_cafe);
        assert_eq!(account_id(&plain).as_deref(), Some("123456789012"));
        assert!(!is_canary(&plain));
        assert_eq!(account_id("AKIAIOSFODNN7EXAMPLE"), None, "old ids carry no account");
    }

    /// An access key id whose decoded account is `account`.
    fn key_id_for_account(account: u64, low: u32) -> String {
        let bits: u128 = (u128::from(account << 7) << 32) | u128::from(low);
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let tail: String = (0..16).rev().map(|i| alphabet[((bits >> (i * 5)) & 31) as usize] as char).collect();
        format!("AKIA{tail}")
    }

    #[test]
    fn reads_the_arn() {
        let body = "<GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ci</Arn></GetCallerIdentityResult>";
        assert_eq!(arn(body), Some("arn:aws:iam::123456789012:user/ci"));
    }
}
