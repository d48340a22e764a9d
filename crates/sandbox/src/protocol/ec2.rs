//! ec2Query: the EC2 dialect of the query protocol. Lists are `Name.N` in requests and `<item>`
//! in answers, there is no `Result` wrapper, and errors are `<Response><Errors>`.

use bytes::Bytes;

use super::input::FormStyle;
use super::xml::{self, ListItems};
use super::{AwsError, Decoded, Encoded, Value};

pub fn decode(query: Option<&str>, body: &Bytes) -> Result<Decoded, AwsError> {
    super::query::decode_with(query, body, FormStyle::Ec2)
}

pub fn encode_ok(xmlns: &str, operation: &str, v: &Value, request_id: &str) -> Encoded {
    let mut out = format!("<{operation}Response xmlns=\"{xmlns}\"><requestId>");
    xml::text(&mut out, request_id);
    out.push_str("</requestId>");
    xml::content(&mut out, v, ListItems::Item);
    out.push_str(&format!("</{operation}Response>"));
    Encoded::new(200, "text/xml;charset=UTF-8", out)
}

pub fn encode_err(err: &AwsError, request_id: &str) -> Encoded {
    let out = xml::error_document(
        err,
        request_id,
        (
            "<Response><Errors><Error>",
            "</Error></Errors>",
            "RequestID",
            "</Response>",
        ),
    );
    Encoded::new(err.status, "text/xml;charset=UTF-8", out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let d = decode(
            None,
            &Bytes::from_static(b"Action=DescribeInstances&InstanceId.1=i-1"),
        )
        .unwrap();
        assert_eq!(d.input.str_list("InstanceId").unwrap(), vec!["i-1"]);
        let v = Value::obj().with(
            "instancesSet",
            Value::List(vec![Value::obj().with("instanceId", "i-1")]),
        );
        let s =
            String::from_utf8(encode_ok("x", "DescribeInstances", &v, "r").body.to_vec()).unwrap();
        assert!(
            s.contains("<instancesSet><item><instanceId>i-1</instanceId></item></instancesSet>"),
            "{s}"
        );
        let s = String::from_utf8(
            encode_err(&AwsError::new(400, "InvalidInstanceID.NotFound", "x"), "r")
                .body
                .to_vec(),
        )
        .unwrap();
        assert!(
            s.starts_with("<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code>"),
            "{s}"
        );
    }
}
