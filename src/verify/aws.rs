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

/// The headers of a signed `sts:GetCallerIdentity` request at `amz_date`.
pub fn sts_headers(access_key_id: &str, secret_access_key: &str, amz_date: &str) -> Vec<(String, String)> {
    let request = Request {
        method: "POST",
        path: "/",
        query: &[],
        headers: &[("content-type", STS_CONTENT_TYPE), ("host", STS_HOST), ("x-amz-date", amz_date)],
        body: STS_BODY.as_bytes(),
    };
    let auth = authorization(&request, access_key_id, secret_access_key, "us-east-1", "sts", amz_date);
    vec![
        ("Content-Type".into(), STS_CONTENT_TYPE.into()),
        ("X-Amz-Date".into(), amz_date.into()),
        ("Authorization".into(), auth),
    ]
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
    fn reads_the_arn() {
        let body = "<GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ci</Arn></GetCallerIdentityResult>";
        assert_eq!(arn(body), Some("arn:aws:iam::123456789012:user/ci"));
    }
}
