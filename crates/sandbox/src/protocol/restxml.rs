//! restXml (S3, path-style): the operation comes from method and path, answers are XML documents
//! whose root element the service names, errors are `<Error><Code>`.

use std::collections::BTreeMap;

use bytes::Bytes;
use http::{HeaderMap, Method};

use super::xml::{self, ListItems};
use super::{AwsError, Encoded, Value};

/// A REST request as S3 handlers see it: bucket and key split from the path, query parameters,
/// headers and the raw body.
#[derive(Debug, Clone)]
pub struct RestRequest {
    pub method: Method,
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub query: BTreeMap<String, String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

pub fn decode(
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<RestRequest, AwsError> {
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .map_err(|_| AwsError::new(400, "InvalidURI", "Couldn't parse the specified URI."))?;
    let trimmed = decoded.trim_start_matches('/');
    let (bucket, key) = match trimmed.split_once('/') {
        Some((b, k)) if !k.is_empty() => (Some(b.to_string()), Some(k.to_string())),
        Some((b, _)) => (Some(b.to_string()), None),
        None if trimmed.is_empty() => (None, None),
        None => (Some(trimmed.to_string()), None),
    };
    let query = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    Ok(RestRequest {
        method: method.clone(),
        bucket,
        key,
        query,
        headers: headers.clone(),
        body: body.clone(),
    })
}

/// `v` must be a structure with exactly one member: the root element.
pub fn encode_ok(_operation: &str, v: &Value) -> Encoded {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    if let Value::Struct(fields) = v {
        for (name, inner) in fields {
            out.push('<');
            out.push_str(name);
            out.push_str(" xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
            xml::content(&mut out, inner, ListItems::Flat);
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
    }
    Encoded::new(200, "application/xml", out)
}

pub fn encode_err(err: &AwsError, request_id: &str) -> Encoded {
    let head = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>";
    let out = xml::error_document(err, request_id, (head, "", "RequestId", "</Error>"));
    Encoded::new(err.status, "application/xml", out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_style_split() {
        let h = HeaderMap::new();
        let r = decode(
            &Method::GET,
            "/kmsworkshop-1/dir/Sample%20File.txt",
            Some("versionId=3"),
            &h,
            &Bytes::new(),
        )
        .unwrap();
        assert_eq!(r.bucket.as_deref(), Some("kmsworkshop-1"));
        assert_eq!(r.key.as_deref(), Some("dir/Sample File.txt"));
        assert_eq!(r.query["versionId"], "3");
        let r = decode(&Method::GET, "/", None, &h, &Bytes::new()).unwrap();
        assert!(r.bucket.is_none());
        let e = encode_err(
            &AwsError::new(404, "NoSuchBucket", "The specified bucket does not exist"),
            "r",
        );
        assert_eq!(e.status, 404);
        let ok = encode_ok(
            "ListBuckets",
            &Value::obj().with(
                "ListAllMyBucketsResult",
                Value::obj().with(
                    "Buckets",
                    Value::NamedList("Bucket", vec![Value::obj().with("Name", "b")]),
                ),
            ),
        );
        let s = String::from_utf8(ok.body.to_vec()).unwrap();
        assert!(
            s.contains("<Buckets><Bucket><Name>b</Name></Bucket></Buckets>"),
            "{s}"
        );
    }
}
