//! The tests' one reader of XML answers (awsQuery, ec2Query, S3): an element tree of names,
//! children and text, read with quick-xml. Attributes are not kept: no answer the tests compare
//! carries data in them.

use quick_xml::events::Event;

/// An XML element: its name as written (with any prefix), child elements, and its text (the
/// unescaped text directly inside it, white space included).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    pub children: Vec<Node>,
    pub text: String,
}

impl Node {
    /// The first child element called `name`.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The trimmed text of the first child element called `name`.
    pub fn text_of(&self, name: &str) -> Option<String> {
        self.child(name).map(|c| c.text.trim().to_string())
    }
}

/// An entity or character reference as text; an unknown entity stays as written.
fn reference(r: &quick_xml::events::BytesRef<'_>) -> Option<String> {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return Some(c.to_string());
    }
    let name = r.decode().ok()?;
    Some(
        match name.as_ref() {
            "amp" => "&",
            "lt" => "<",
            "gt" => ">",
            "quot" => "\"",
            "apos" => "'",
            other => return Some(format!("&{other};")),
        }
        .to_string(),
    )
}

/// Parse `text` and return its (last) root element; `None` when it is not well-formed XML.
pub fn parse(text: &str) -> Option<Node> {
    let mut reader = quick_xml::Reader::from_str(text);
    // The document itself holds the root elements, so that `</x>` always has a parent to join.
    let mut stack: Vec<Node> = vec![Node::default()];
    let name_of = |raw: &[u8]| String::from_utf8_lossy(raw).into_owned();
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => stack.push(Node {
                name: name_of(e.name().as_ref()),
                ..Node::default()
            }),
            Event::Empty(e) => stack.last_mut()?.children.push(Node {
                name: name_of(e.name().as_ref()),
                ..Node::default()
            }),
            Event::End(_) => {
                let node = stack.pop()?;
                stack.last_mut()?.children.push(node);
            }
            Event::Text(t) => stack.last_mut()?.text.push_str(&t.decode().ok()?),
            Event::CData(t) => stack.last_mut()?.text.push_str(&t.decode().ok()?),
            Event::GeneralRef(r) => stack.last_mut()?.text.push_str(&reference(&r)?),
            Event::Eof => break,
            _ => {}
        }
    }
    let mut doc = stack.pop()?;
    if !stack.is_empty() {
        return None;
    }
    doc.children.pop()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_elements_text_and_references() {
        let root = parse(
            r#"<?xml version="1.0"?><R xmlns="x"><A>1 &amp; 2 &#x41;&lt;</A><B/><C><D>x</D></C></R>"#,
        )
        .expect("well-formed");
        assert_eq!(root.name, "R");
        assert_eq!(root.text_of("A").as_deref(), Some("1 & 2 A<"));
        assert_eq!(root.child("B").map(|b| b.children.len()), Some(0));
        assert_eq!(
            root.child("C").and_then(|c| c.text_of("D")).as_deref(),
            Some("x")
        );
    }

    #[test]
    fn refuses_what_is_not_well_formed() {
        assert_eq!(parse("<a><b></a>"), None);
        assert_eq!(parse("<a>"), None);
    }
}
