//! An incremental `multipart/form-data` parser: fed the request body chunk by chunk (the
//! delimiter may be split across chunks anywhere), it yields each part's headers, its data
//! in pieces and its end, holding back at most one delimiter's length of data.
//! Also: the `Content-Disposition` parameters (quoted strings with backslash escapes, RFC
//! 5987 `filename*`).

use bytes::{Buf, Bytes, BytesMut};

/// Most bytes a part's header block may have.
const MAX_HEAD: usize = 16 * 1024;
/// Most bytes between a delimiter and the end of its line (transport padding).
const MAX_DELIM_LINE: usize = 1024;

/// The headers of one part.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PartHead {
    /// Every header as sent: lower-case name, value trimmed, in order.
    pub headers: Vec<(String, String)>,
    /// `name` of the content disposition ("" without one).
    pub name: String,
    /// `filename*` (decoded) if present and decodable, else `filename`.
    pub filename: Option<String>,
    pub content_type: Option<String>,
}

/// What the parser found in the bytes fed so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A part begins.
    Part(PartHead),
    /// Some of the current part's data (never empty).
    Data(Bytes),
    /// The current part ended.
    PartEnd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MultipartError {
    #[error("multipart boundary not found")]
    NoBoundary,
    #[error("malformed multipart delimiter")]
    BadDelimiter,
    #[error("multipart part headers too large")]
    HeadersTooLarge,
    #[error("unterminated multipart body")]
    Unterminated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    /// Before the first delimiter.
    Preamble,
    /// Just after a delimiter: `--` (the end) or padding and a line break.
    AfterDelim,
    Headers,
    Body,
    /// After the closing delimiter (the epilogue is ignored).
    Done,
}

pub struct Parser {
    /// `\r\n--boundary`
    delim: Vec<u8>,
    buf: BytesMut,
    st: St,
}

/// First position of `needle` in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, _) = needle.split_first()?;
    if hay.len() < needle.len() {
        return None;
    }
    let last_start = hay.len() - needle.len();
    let mut i = 0;
    while i <= last_start {
        let p = hay[i..=last_start].iter().position(|&b| b == first)?;
        let at = i + p;
        if &hay[at..at + needle.len()] == needle {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

impl Parser {
    pub fn new(boundary: &str) -> Parser {
        let mut delim = b"\r\n--".to_vec();
        delim.extend_from_slice(boundary.as_bytes());
        // The first delimiter may open the body without a line break before it: pretend one.
        let mut buf = BytesMut::with_capacity(64 * 1024);
        buf.extend_from_slice(b"\r\n");
        Parser {
            delim,
            buf,
            st: St::Preamble,
        }
    }

    /// Parses `chunk`, appending what it completes to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<Event>) -> Result<(), MultipartError> {
        if self.st == St::Done {
            return Ok(());
        }
        self.buf.extend_from_slice(chunk);
        loop {
            match self.st {
                St::Done => {
                    self.buf.clear();
                    return Ok(());
                }
                St::Preamble => match find(&self.buf, &self.delim) {
                    Some(i) => {
                        self.buf.advance(i + self.delim.len());
                        self.st = St::AfterDelim;
                    }
                    None => {
                        let keep = self.keep();
                        self.buf.advance(self.buf.len() - keep);
                        return Ok(());
                    }
                },
                St::AfterDelim => {
                    if self.buf.len() < 2 {
                        return Ok(());
                    }
                    if &self.buf[..2] == b"--" {
                        self.st = St::Done;
                        continue;
                    }
                    let Some(nl) = self.buf.iter().position(|&b| b == b'\n') else {
                        if self.buf.len() > MAX_DELIM_LINE {
                            return Err(MultipartError::BadDelimiter);
                        }
                        return Ok(());
                    };
                    let line = &self.buf[..nl];
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    if !line.iter().all(|&b| b == b' ' || b == b'\t') {
                        return Err(MultipartError::BadDelimiter);
                    }
                    self.buf.advance(nl + 1);
                    self.st = St::Headers;
                }
                St::Headers => {
                    if self.buf.starts_with(b"\r\n") {
                        self.buf.advance(2);
                        out.push(Event::Part(PartHead::default()));
                        self.st = St::Body;
                        continue;
                    }
                    let Some(end) = find(&self.buf, b"\r\n\r\n") else {
                        if self.buf.len() > MAX_HEAD {
                            return Err(MultipartError::HeadersTooLarge);
                        }
                        return Ok(());
                    };
                    if end > MAX_HEAD {
                        return Err(MultipartError::HeadersTooLarge);
                    }
                    let head = parse_head(&self.buf[..end]);
                    self.buf.advance(end + 4);
                    out.push(Event::Part(head));
                    self.st = St::Body;
                }
                St::Body => match find(&self.buf, &self.delim) {
                    Some(i) => {
                        if i > 0 {
                            out.push(Event::Data(self.buf.split_to(i).freeze()));
                        }
                        self.buf.advance(self.delim.len());
                        out.push(Event::PartEnd);
                        self.st = St::AfterDelim;
                    }
                    None => {
                        let keep = self.keep();
                        if self.buf.len() > keep {
                            let n = self.buf.len() - keep;
                            out.push(Event::Data(self.buf.split_to(n).freeze()));
                        }
                        return Ok(());
                    }
                },
            }
        }
    }

    /// The body ended: it must have ended with the closing delimiter.
    pub fn finish(&self) -> Result<(), MultipartError> {
        match self.st {
            St::Done => Ok(()),
            St::Preamble => Err(MultipartError::NoBoundary),
            _ => Err(MultipartError::Unterminated),
        }
    }

    /// Bytes at the end of the buffer that may be the start of a delimiter.
    fn keep(&self) -> usize {
        self.buf.len().min(self.delim.len() - 1)
    }
}

fn parse_head(raw: &[u8]) -> PartHead {
    let text = String::from_utf8_lossy(raw);
    let mut head = PartHead::default();
    for line in text.split("\r\n") {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let name = k.trim().to_ascii_lowercase();
        let value = v.trim().to_string();
        if name == "content-disposition" {
            let (_, params) = parse_params(&value);
            let get = |key: &str| {
                params
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| v.clone())
            };
            head.name = get("name").unwrap_or_default();
            head.filename = get("filename*")
                .and_then(|v| decode_ext_value(&v))
                .or_else(|| get("filename"));
        } else if name == "content-type" {
            head.content_type = Some(value.clone());
        }
        head.headers.push((name, value));
    }
    head
}

/// `type; key=value; key="quoted \" value"` -> (type, [(lower-case key, value)]).
pub fn parse_params(value: &str) -> (String, Vec<(String, String)>) {
    let chars: Vec<char> = value.chars().collect();
    let mut i = 0;
    let mut kind = String::new();
    while i < chars.len() && chars[i] != ';' {
        kind.push(chars[i]);
        i += 1;
    }
    let mut params = Vec::new();
    while i < chars.len() {
        // At a ';' (or garbage): skip separators and spaces.
        while i < chars.len() && (chars[i] == ';' || chars[i].is_whitespace()) {
            i += 1;
        }
        let mut key = String::new();
        while i < chars.len() && chars[i] != '=' && chars[i] != ';' {
            key.push(chars[i]);
            i += 1;
        }
        let key = key.trim().to_ascii_lowercase();
        if i >= chars.len() || chars[i] == ';' {
            if !key.is_empty() {
                params.push((key, String::new()));
            }
            continue;
        }
        i += 1; // '='
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        let mut val = String::new();
        if i < chars.len() && chars[i] == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' && i + 1 < chars.len() {
                    i += 1;
                }
                val.push(chars[i]);
                i += 1;
            }
            i += 1; // closing quote (if any)
            while i < chars.len() && chars[i] != ';' {
                i += 1;
            }
        } else {
            while i < chars.len() && chars[i] != ';' {
                val.push(chars[i]);
                i += 1;
            }
            val = val.trim().to_string();
        }
        if !key.is_empty() {
            params.push((key, val));
        }
    }
    (kind.trim().to_string(), params)
}

/// RFC 5987 / 8187 `charset'language'percent-encoded` (UTF-8 or ISO-8859-1).
pub fn decode_ext_value(v: &str) -> Option<String> {
    let (charset, rest) = v.split_once('\'')?;
    let (_lang, encoded) = rest.split_once('\'')?;
    let bytes = percent_decode(encoded)?;
    match charset.trim().to_ascii_lowercase().as_str() {
        "utf-8" => String::from_utf8(bytes).ok(),
        "iso-8859-1" => Some(bytes.into_iter().map(char::from).collect()),
        _ => None,
    }
}

fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parts of a body fed in the given pieces: (head, data) per part.
    fn parse_in(
        body: &[u8],
        cuts: &[usize],
        boundary: &str,
    ) -> Result<Vec<(PartHead, Vec<u8>)>, MultipartError> {
        let mut p = Parser::new(boundary);
        let mut events = Vec::new();
        let mut last = 0;
        for &c in cuts.iter().chain(std::iter::once(&body.len())) {
            p.feed(&body[last..c], &mut events)?;
            last = c;
        }
        p.finish()?;
        let mut parts: Vec<(PartHead, Vec<u8>)> = Vec::new();
        let mut open = false;
        for e in events {
            match e {
                Event::Part(h) => {
                    assert!(!open, "part inside a part");
                    open = true;
                    parts.push((h, Vec::new()));
                }
                Event::Data(d) => {
                    assert!(open && !d.is_empty());
                    if let Some(last) = parts.last_mut() {
                        last.1.extend_from_slice(&d);
                    }
                }
                Event::PartEnd => {
                    assert!(open);
                    open = false;
                }
            }
        }
        assert!(!open);
        Ok(parts)
    }

    const BODY: &[u8] = b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nv\r\n--XyZ  \r\nContent-Disposition: form-data; name=\"files\"; filename=\"a b.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--Xy\r\nworld\r\r\n--XyZ\r\n\r\nno headers\r\n--XyZ--\r\nepilogue --XyZ";

    fn check(parts: &[(PartHead, Vec<u8>)]) {
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].0.name, "other");
        assert_eq!(parts[0].1, b"v");
        assert_eq!(parts[1].0.name, "files");
        assert_eq!(parts[1].0.filename.as_deref(), Some("a b.txt"));
        assert_eq!(parts[1].0.content_type.as_deref(), Some("text/plain"));
        assert_eq!(
            parts[1].0.headers,
            vec![
                (
                    "content-disposition".to_string(),
                    "form-data; name=\"files\"; filename=\"a b.txt\"".to_string()
                ),
                ("content-type".to_string(), "text/plain".to_string())
            ]
        );
        assert_eq!(parts[1].1, b"hello\r\n--Xy\r\nworld\r");
        assert_eq!(parts[2].0, PartHead::default());
        assert_eq!(parts[2].1, b"no headers");
    }

    #[test]
    fn parses_whole() {
        check(&parse_in(BODY, &[], "XyZ").expect("parts"));
    }

    #[test]
    fn parses_split_at_every_byte() {
        for cut in 0..=BODY.len() {
            let parts = parse_in(BODY, &[cut], "XyZ").unwrap_or_else(|e| panic!("cut {cut}: {e}"));
            check(&parts);
        }
        for a in (0..BODY.len()).step_by(3) {
            for b in (a..BODY.len()).step_by(5) {
                check(&parse_in(BODY, &[a, b], "XyZ").expect("parts"));
            }
        }
        // One byte at a time.
        let cuts: Vec<usize> = (1..BODY.len()).collect();
        check(&parse_in(BODY, &cuts, "XyZ").expect("parts"));
    }

    #[test]
    fn body_without_preamble_and_empty_parts() {
        let body = b"--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"e\"\r\n\r\n\r\n--b--";
        for cut in 0..=body.len() {
            let parts = parse_in(body, &[cut], "b").expect("parts");
            assert_eq!(parts.len(), 1);
            assert!(parts[0].1.is_empty());
        }
    }

    #[test]
    fn refuses_broken_bodies() {
        assert_eq!(
            parse_in(b"junk", &[], "XyZ").err(),
            Some(MultipartError::NoBoundary)
        );
        assert_eq!(
            parse_in(b"--XyZ\r\nA: b\r\n\r\ndata", &[], "XyZ").err(),
            Some(MultipartError::Unterminated)
        );
        assert_eq!(
            parse_in(b"--XyZjunk\r\n\r\n", &[], "XyZ").err(),
            Some(MultipartError::BadDelimiter)
        );
        let mut big = b"--XyZ\r\n".to_vec();
        big.extend(std::iter::repeat_n(b'a', MAX_HEAD + 10));
        assert_eq!(
            parse_in(&big, &[], "XyZ").err(),
            Some(MultipartError::HeadersTooLarge)
        );
    }

    #[test]
    fn content_disposition_parameters() {
        let (k, p) =
            parse_params(r#"form-data; name="files"; filename="a \"quoted\" \\ name.txt""#);
        assert_eq!(k, "form-data");
        assert_eq!(p[0], ("name".into(), "files".into()));
        assert_eq!(p[1], ("filename".into(), r#"a "quoted" \ name.txt"#.into()));
        let (_, p) = parse_params("form-data;name=files ; FILENAME = plain.txt;flag");
        assert_eq!(p[0], ("name".into(), "files".into()));
        assert_eq!(p[1], ("filename".into(), "plain.txt".into()));
        assert_eq!(p[2], ("flag".into(), String::new()));
        // `;` inside quotes is data.
        let (_, p) = parse_params(r#"form-data; filename="a;b.txt"; name="x""#);
        assert_eq!(p[0].1, "a;b.txt");
        assert_eq!(p[1].1, "x");
    }

    #[test]
    fn filename_star_wins_and_decodes() {
        assert_eq!(
            decode_ext_value("UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf").as_deref(),
            Some("résumé \"final\".pdf")
        );
        assert_eq!(decode_ext_value("utf-8'en'%E2%82%AC").as_deref(), Some("€"));
        assert_eq!(
            decode_ext_value("iso-8859-1''%E9t%E9").as_deref(),
            Some("été")
        );
        assert_eq!(decode_ext_value("UTF-8''%FF"), None);
        assert_eq!(decode_ext_value("UTF-8''%4"), None);
        assert_eq!(decode_ext_value("nocharset"), None);
        assert_eq!(decode_ext_value("koi8-r''x"), None);
        let head = parse_head(
            b"Content-Disposition: form-data; name=\"files\"; filename=\"r_sum_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf",
        );
        assert_eq!(head.filename.as_deref(), Some("résumé.pdf"));
        // An undecodable filename* falls back to filename.
        let head = parse_head(
            b"Content-Disposition: form-data; name=\"files\"; filename*=UTF-8''%FF; filename=\"x.bin\"",
        );
        assert_eq!(head.filename.as_deref(), Some("x.bin"));
    }

    #[test]
    fn finds() {
        assert_eq!(find(b"abcabd", b"abd"), Some(3));
        assert_eq!(find(b"ab", b"abd"), None);
        assert_eq!(find(b"aaab", b"ab"), Some(2));
        assert_eq!(find(b"x", b""), None);
    }
}
