//! Writing [`Value`]s as XML, shared by the query, EC2 and REST-XML protocols, which differ only
//! in how list items are named.

use quick_xml::escape::escape;

use super::Value;
use crate::util::iso8601;

/// How an XML dialect names the items of a plain [`Value::List`].
#[derive(Clone, Copy)]
pub(crate) enum ListItems {
    /// `<member>` (awsQuery).
    Member,
    /// `<item>` (ec2Query).
    Item,
    /// The list's own element repeated (REST-XML's usual flattened lists).
    Flat,
}

pub(crate) fn text(out: &mut String, s: &str) {
    out.push_str(&escape(s));
}

pub(crate) fn element(out: &mut String, name: &str, v: &Value, items: ListItems) {
    match v {
        Value::Null => {}
        Value::FlatList(list) => {
            for item in list {
                element(out, name, item, items);
            }
        }
        Value::List(list) if matches!(items, ListItems::Flat) => {
            for item in list {
                element(out, name, item, items);
            }
        }
        _ => {
            out.push('<');
            out.push_str(name);
            out.push('>');
            content(out, v, items);
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
    }
}

pub(crate) fn content(out: &mut String, v: &Value, items: ListItems) {
    match v {
        Value::Null => {}
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&f.to_string()),
        Value::Str(s) => text(out, s),
        Value::Blob(b) => out.push_str(&crate::util::b64(b)),
        Value::Time(t) => out.push_str(&iso8601(*t)),
        Value::List(list) => {
            let tag = match items {
                ListItems::Member => "member",
                ListItems::Item | ListItems::Flat => "item",
            };
            for item in list {
                element(out, tag, item, items);
            }
        }
        Value::NamedList(tag, list) => {
            for item in list {
                element(out, tag, item, items);
            }
        }
        Value::FlatList(list) => {
            for item in list {
                content(out, item, items);
            }
        }
        Value::Struct(fields) => {
            for (k, v) in fields {
                element(out, k, v, items);
            }
        }
        Value::Map(entries) => {
            for (k, v) in entries {
                out.push_str("<entry><key>");
                text(out, k);
                out.push_str("</key>");
                element(out, "value", v, items);
                out.push_str("</entry>");
            }
        }
    }
}

/// An XML error document: `head`, the error's `<Code>` and `<Message>`, `mid` (what closes
/// between them and the request id), the request id in element `id_tag`, then `tail`. Each
/// XML protocol nests these differently; the escaping is the same.
pub(super) fn error_document(
    err: &super::AwsError,
    request_id: &str,
    (head, mid, id_tag, tail): (&str, &str, &str, &str),
) -> String {
    let mut out = format!("{head}<Code>");
    text(&mut out, &err.code);
    out.push_str("</Code><Message>");
    text(&mut out, &err.message);
    out.push_str(&format!("</Message>{mid}<{id_tag}>"));
    text(&mut out, request_id);
    out.push_str(&format!("</{id_tag}>{tail}"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_maps_and_escaping() {
        let v = Value::obj()
            .with("Names", Value::List(vec!["a<b".into(), "c".into()]))
            .with("Attrs", Value::Map(vec![("k".into(), "v&".into())]))
            .with("Flag", true);
        let mut s = String::new();
        content(&mut s, &v, ListItems::Member);
        assert_eq!(
            s,
            "<Names><member>a&lt;b</member><member>c</member></Names><Attrs><entry><key>k</key><value>v&amp;</value></entry></Attrs><Flag>true</Flag>"
        );
        let mut s = String::new();
        content(
            &mut s,
            &Value::obj().with("Ids", Value::List(vec!["i-1".into()])),
            ListItems::Item,
        );
        assert_eq!(s, "<Ids><item>i-1</item></Ids>");
        let mut s = String::new();
        content(
            &mut s,
            &Value::obj().with("Contents", Value::List(vec!["x".into(), "y".into()])),
            ListItems::Flat,
        );
        assert_eq!(s, "<Contents>x</Contents><Contents>y</Contents>");
    }
}
