//! A small, shallow XML tree over quick-xml, with byte offsets for line:column.
//!
//! Metadata files are matched on local names only (`xmlns` on the root, repeated on children, or
//! absent all parse the same). Only the first [`MAX_STORED_DEPTH`] levels are kept: nothing the
//! loader reads is deeper, and a shallow tree cannot overflow the stack when dropped, whatever
//! the input. Deeper content is still checked for well-formedness.
//!
//! Secret elements (see [`SECRET_ELEMENTS`]) are skipped with `read_to_end`: their text is never
//! decoded, stored or quoted.

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::errors::{Error as XmlError, IllFormedError};
use quick_xml::events::Event;

use super::error::MetadataError;
pub(crate) use crate::text::LineIndex;

/// Root, its children and grandchildren (`ConnectedApp/oauthConfig/scopes`).
pub(crate) const MAX_STORED_DEPTH: usize = 3;

/// Nesting deeper than this is refused: metadata files are a handful of levels deep, and
/// every open level costs memory until it closes.
pub(crate) const MAX_XML_DEPTH: usize = 64;
/// More elements than this in one file are refused (a large real profile has a few hundred
/// thousand).
pub(crate) const MAX_XML_ELEMENTS: usize = 1_000_000;

/// Elements whose values are never read (local names).
pub(crate) const SECRET_ELEMENTS: &[&str] = &[
    "consumerSecret",
    "password",
    "oauthToken",
    "oauthRefreshToken",
];

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// One element of the shallow tree.
#[derive(Debug)]
pub(crate) struct Element<'a> {
    /// Local name (prefix stripped).
    pub name: String,
    /// Byte offset of its `<`.
    pub offset: usize,
    /// Direct text content: entities resolved, CDATA included, line ends normalized to `\n`.
    pub text: Cow<'a, str>,
    /// `xsi:nil="true"`.
    pub nil: bool,
    /// Child elements (empty beyond [`MAX_STORED_DEPTH`]).
    pub children: Vec<Element<'a>>,
    /// Whether it has child elements, stored or not.
    pub has_child_elements: bool,
    /// Name of the first child element, for messages.
    pub first_child_name: Option<String>,
}

impl<'a> Element<'a> {
    /// Child elements with this local name, in document order.
    pub fn children_named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Element<'a>> {
        self.children.iter().filter(move |c| c.name == name)
    }
}

/// A parsed document: the root element and the text it came from.
#[derive(Debug)]
pub(crate) struct Document<'a> {
    pub root: Element<'a>,
    pub lines: LineIndex<'a>,
}

/// Strips a UTF-8 BOM and checks the bytes are UTF-8, naming the first bad byte's position.
pub(crate) fn decode<'a>(bytes: &'a [u8], path: &str) -> Result<&'a str, MetadataError> {
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let (line, column) = LineIndex::new(bytes).position(e.valid_up_to());
        let found = bytes.get(e.valid_up_to()).map_or_else(
            || "a truncated character".to_string(),
            |b| format!("byte 0x{b:02X}"),
        );
        MetadataError::Unexpected {
            path: path.to_string(),
            line,
            column,
            expected: "UTF-8 text".to_string(),
            found,
        }
    })
}

/// Parses a whole document (after [`decode`]). `path` only names the file in errors.
pub(crate) fn parse<'a>(src: &'a str, path: &str) -> Result<Document<'a>, MetadataError> {
    let lines = LineIndex::new(src.as_bytes());
    let root = build_tree(src, path, &lines)?;
    Ok(Document { root, lines })
}

fn build_tree<'a>(
    src: &'a str,
    path: &str,
    lines: &LineIndex,
) -> Result<Element<'a>, MetadataError> {
    let mut reader = Reader::from_str(src);
    {
        let config = reader.config_mut();
        config.trim_text(false);
        config.check_end_names = true;
        config.expand_empty_elements = false;
    }
    let unexpected = |offset: usize, expected: &str, found: String| {
        let (line, column) = lines.position(offset);
        MetadataError::Unexpected {
            path: path.to_string(),
            line,
            column,
            expected: expected.to_string(),
            found,
        }
    };

    let outside = |offset: usize, what: &str| {
        unexpected(
            offset,
            "an element",
            format!("{what} outside the root element"),
        )
    };
    let limit = |offset: usize, what: &'static str, limit: usize| {
        let (line, column) = lines.position(offset);
        MetadataError::XmlLimit {
            path: path.to_string(),
            line,
            column,
            what,
            limit,
        }
    };

    // Open elements; entries deeper than MAX_STORED_DEPTH are kept only to track nesting.
    let mut stack: Vec<Element<'a>> = Vec::new();
    let mut root: Option<Element<'a>> = None;
    let mut elements = 0usize;
    loop {
        let before = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(err) => {
                let at = usize::try_from(reader.error_position()).unwrap_or(usize::MAX);
                return Err(xml_error(path, lines, at, &err));
            }
        };
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                let is_empty = matches!(event, Event::Empty(_));
                elements += 1;
                if elements > MAX_XML_ELEMENTS {
                    return Err(limit(
                        before,
                        "the number of XML elements",
                        MAX_XML_ELEMENTS,
                    ));
                }
                if stack.len() >= MAX_XML_DEPTH {
                    return Err(limit(before, "the XML nesting depth", MAX_XML_DEPTH));
                }
                let name = start.local_name().as_ref().to_string();
                if stack.is_empty()
                    && let Some(root) = &root
                {
                    return Err(unexpected(
                        before,
                        &format!("the end of the file after </{}>", root.name),
                        format!("a second root element <{name}>"),
                    ));
                }
                if let Some(parent) = stack.last_mut() {
                    parent.has_child_elements = true;
                    if parent.first_child_name.is_none() {
                        parent.first_child_name = Some(name.clone());
                    }
                }
                if SECRET_ELEMENTS.contains(&name.as_str()) {
                    if !is_empty {
                        let qname = start.name();
                        if let Err(err) = reader.read_to_end(qname) {
                            let at = usize::try_from(reader.error_position()).unwrap_or(before);
                            return Err(xml_error(path, lines, at.max(before), &err));
                        }
                    }
                    continue;
                }
                let mut nil = false;
                for attr in start.attributes() {
                    let attr = match attr {
                        Ok(attr) => attr,
                        Err(err) => {
                            return Err(xml_error(
                                path,
                                lines,
                                before,
                                &XmlError::InvalidAttr(err),
                            ));
                        }
                    };
                    if attr.key.local_name().as_ref() == "nil" {
                        nil = matches!(attr.value.trim(), "true" | "1");
                    }
                }
                let element = Element {
                    name,
                    offset: before,
                    text: Cow::Borrowed(""),
                    nil,
                    children: Vec::new(),
                    has_child_elements: false,
                    first_child_name: None,
                };
                if is_empty {
                    attach(&mut stack, &mut root, element);
                } else {
                    stack.push(element);
                }
            }
            Event::End(_) => match stack.pop() {
                Some(element) => attach(&mut stack, &mut root, element),
                None => {
                    return Err(unexpected(
                        before,
                        "the end of the file",
                        "a closing tag".to_string(),
                    ));
                }
            },
            Event::Text(text) => {
                push_text(&mut stack, text.xml10_content(), || outside(before, "text"))?;
            }
            Event::CData(cdata) => {
                push_text(&mut stack, cdata.xml10_content(), || {
                    outside(before, "CDATA")
                })?;
            }
            Event::GeneralRef(reference) => {
                let resolved: Cow<'a, str> = if reference.is_char_ref() {
                    match reference.resolve_char_ref() {
                        Ok(Some(c)) => Cow::Owned(c.to_string()),
                        Ok(None) | Err(_) => {
                            return Err(unexpected(
                                before,
                                "a valid character reference",
                                format!("`&{};`", truncate(&reference.xml10_content(), 16)),
                            ));
                        }
                    }
                } else {
                    let name = reference.xml10_content();
                    match quick_xml::escape::resolve_xml_entity(&name) {
                        Some(s) => Cow::Borrowed(s),
                        None => {
                            return Err(unexpected(
                                before,
                                "one of the predefined entities &amp; &lt; &gt; &quot; &apos;",
                                format!("`&{};`", truncate(&name, 16)),
                            ));
                        }
                    }
                };
                push_text(&mut stack, resolved, || outside(before, "an entity"))?;
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            Event::Eof => {
                if let Some(open) = stack.last() {
                    return Err(unexpected(
                        src.len(),
                        &format!("</{}>", open.name),
                        "the end of the file".to_string(),
                    ));
                }
                break;
            }
        }
    }
    root.ok_or_else(|| {
        unexpected(
            src.len(),
            "a root element",
            "the end of the file".to_string(),
        )
    })
}

/// Adds a finished element to its parent (or makes it the root).
fn attach<'a>(stack: &mut [Element<'a>], root: &mut Option<Element<'a>>, element: Element<'a>) {
    let depth = stack.len() + 1;
    match stack.last_mut() {
        Some(parent) => {
            if depth <= MAX_STORED_DEPTH {
                parent.children.push(element);
            }
        }
        None => *root = Some(element),
    }
}

fn push_text<'a>(
    stack: &mut [Element<'a>],
    content: Cow<'a, str>,
    outside: impl FnOnce() -> MetadataError,
) -> Result<(), MetadataError> {
    let depth = stack.len();
    match stack.last_mut() {
        Some(element) => {
            if depth <= MAX_STORED_DEPTH {
                if element.text.is_empty() {
                    element.text = content;
                } else {
                    element.text.to_mut().push_str(&content);
                }
            }
            Ok(())
        }
        None if content.trim().is_empty() => Ok(()),
        None => Err(outside()),
    }
}

fn xml_error(path: &str, lines: &LineIndex, offset: usize, err: &XmlError) -> MetadataError {
    let (line, column) = lines.position(offset);
    let message = match err {
        XmlError::IllFormed(IllFormedError::MismatchedEndTag { expected, found }) => {
            format!("expected </{expected}>, found </{found}>")
        }
        XmlError::IllFormed(IllFormedError::UnmatchedEndTag(name)) => {
            format!("expected no closing tag here, found </{name}> with no open <{name}>")
        }
        XmlError::IllFormed(IllFormedError::MissingEndTag(name)) => {
            format!("expected </{name}> before the end of the file")
        }
        other => other.to_string(),
    };
    MetadataError::Xml {
        path: path.to_string(),
        line,
        column,
        message,
    }
}

/// Shortens a value quoted in a message.
pub(crate) fn truncate(s: &str, max_chars: usize) -> String {
    let mut out: String = s.chars().take(max_chars).collect();
    if s.chars().nth(max_chars).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(src: &str) -> Result<Document<'_>, MetadataError> {
        parse(src, "t.xml")
    }

    #[test]
    fn nesting_and_element_count_are_bounded() {
        let deep = format!(
            "{}{}",
            "<a>".repeat(MAX_XML_DEPTH + 1),
            "</a>".repeat(MAX_XML_DEPTH + 1)
        );
        let e = doc(&deep).unwrap_err().to_string();
        assert!(
            e.contains("t.xml:1:") && e.contains("nesting depth exceeds the limit of 64"),
            "{e}"
        );
        // An unclosed document deeper than the limit is refused before its end is reached.
        let unclosed = "<a>".repeat(1_000_000);
        let e = doc(&unclosed).unwrap_err().to_string();
        assert!(e.contains("nesting depth"), "{e}");
        let wide = format!("<r>{}</r>", "<b/>".repeat(MAX_XML_ELEMENTS));
        let e = doc(&wide).unwrap_err().to_string();
        assert!(e.contains("the number of XML elements exceeds"), "{e}");
        // Just at the limits is fine.
        let ok = format!(
            "{}{}",
            "<a>".repeat(MAX_XML_DEPTH),
            "</a>".repeat(MAX_XML_DEPTH)
        );
        assert!(doc(&ok).is_ok());
    }

    #[test]
    fn local_names_text_entities_cdata_and_nil() {
        let d = doc(concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\r\n",
            "<m:Root xmlns:m=\"urn:x\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\r\n",
            "  <!-- note -->\r\n",
            "  <m:a xmlns=\"urn:x\">x &amp; y&#33;</m:a>\r\n",
            "  <b><![CDATA[<raw>]]>\r\nz</b>\r\n",
            "  <c xsi:nil=\"true\"/>\r\n",
            "</m:Root>\r\n"
        ))
        .unwrap();
        assert_eq!(d.root.name, "Root");
        let a = d.root.children_named("a").next().unwrap();
        assert_eq!(a.text, "x & y!");
        assert_eq!(d.lines.position(a.offset), (4, 3));
        let b = d.root.children_named("b").next().unwrap();
        assert_eq!(b.text, "<raw>\nz");
        assert!(d.root.children_named("c").next().unwrap().nil);
    }

    #[test]
    fn secrets_are_skipped() {
        let d =
            doc("<R><password>hunter2 &bogus;</password><consumerSecret/><k>v</k></R>").unwrap();
        assert_eq!(d.root.children.len(), 1);
        assert!(!format!("{:?}", d.root).contains("hunter2"));
    }

    #[test]
    fn errors_name_line_and_column() {
        let err = doc("<R>\n  <a>1</b>\n</R>").unwrap_err().to_string();
        assert!(err.starts_with("t.xml:2:"), "{err}");
        assert!(err.contains("expected </a>, found </b>"), "{err}");
        let err = doc("<R>\n<a>").unwrap_err().to_string();
        assert!(err.contains("expected </a>"), "{err}");
        let err = doc("").unwrap_err().to_string();
        assert!(err.contains("a root element"), "{err}");
        let err = doc("<R/><S/>").unwrap_err().to_string();
        assert!(err.contains("second root"), "{err}");
        let err = doc("<R>&nbsp;</R>").unwrap_err().to_string();
        assert!(err.starts_with("t.xml:1:4"), "{err}");
    }

    #[test]
    fn non_utf8_is_located() {
        let err = decode(b"<R>\n\xff</R>", "t.xml").unwrap_err().to_string();
        assert!(err.starts_with("t.xml:2:1"), "{err}");
        assert_eq!(decode(b"\xEF\xBB\xBF<R/>", "t.xml").unwrap(), "<R/>");
    }

    #[test]
    fn deep_nesting_is_not_stored() {
        let depth = MAX_XML_DEPTH;
        let src = format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
        let d = doc(&src).unwrap();
        assert_eq!(d.root.children.len(), 1);
        assert!(d.root.children[0].children[0].children.is_empty());
    }
}
