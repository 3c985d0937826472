//! An incremental Server-Sent Events parser (the WHATWG event-stream format): bytes in, events
//! out, with a bound on how large one event may grow.

/// One dispatched event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseMessage {
    pub event: String,
    pub data: String,
    pub id: Option<String>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    #[error("an event of the stream is larger than {0} bytes")]
    TooLarge(usize),
}

/// What one chunk of bytes produced.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub messages: Vec<SseMessage>,
    /// Comment lines seen (the server's keep-alives): proof the stream is alive.
    pub comments: usize,
}

pub struct SseParser {
    buf: Vec<u8>,
    event: String,
    data: String,
    has_data: bool,
    id: Option<String>,
    limit: usize,
    skip_lf: bool,
}

impl SseParser {
    pub fn new(limit: usize) -> Self {
        SseParser {
            buf: Vec::new(),
            event: String::new(),
            data: String::new(),
            has_data: false,
            id: None,
            limit,
            skip_lf: false,
        }
    }

    pub fn feed(&mut self, chunk: &[u8]) -> Result<Parsed, SseError> {
        let mut out = Parsed::default();
        for &b in chunk {
            if self.skip_lf {
                self.skip_lf = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\n' | b'\r' => {
                    self.skip_lf = b == b'\r';
                    let line = std::mem::take(&mut self.buf);
                    self.line(&String::from_utf8_lossy(&line), &mut out);
                }
                _ => {
                    self.buf.push(b);
                    if self.buf.len() + self.data.len() > self.limit {
                        return Err(SseError::TooLarge(self.limit));
                    }
                }
            }
        }
        Ok(out)
    }

    fn line(&mut self, line: &str, out: &mut Parsed) {
        if line.is_empty() {
            if self.has_data {
                out.messages.push(SseMessage {
                    event: if self.event.is_empty() {
                        "message".into()
                    } else {
                        std::mem::take(&mut self.event)
                    },
                    data: std::mem::take(&mut self.data),
                    id: self.id.clone(),
                });
            }
            self.event.clear();
            self.data.clear();
            self.has_data = false;
            return;
        }
        if line.starts_with(':') {
            out.comments += 1;
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = value.to_owned(),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "id" if !value.contains('\0') => self.id = Some(value.to_owned()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks_and_line_endings() {
        let mut p = SseParser::new(1 << 20);
        let mut got = Vec::new();
        let mut comments = 0;
        for chunk in [
            &b": keep-alive\n\nevent: inci"[..],
            b"dent\r\ndata: {\"a\":1}\r\nid: 1-5\r\n\r",
            b"\ndata: x\ndata: y\n\n",
        ] {
            let parsed = p.feed(chunk).unwrap();
            comments += parsed.comments;
            got.extend(parsed.messages);
        }
        assert_eq!(comments, 1);
        assert_eq!(
            got,
            vec![
                SseMessage {
                    event: "incident".into(),
                    data: "{\"a\":1}".into(),
                    id: Some("1-5".into())
                },
                SseMessage {
                    event: "message".into(),
                    data: "x\ny".into(),
                    id: Some("1-5".into())
                },
            ]
        );
    }

    #[test]
    fn an_endless_line_is_refused() {
        let mut p = SseParser::new(1000);
        assert_eq!(p.feed(&vec![b'a'; 2000]), Err(SseError::TooLarge(1000)));
    }
}
