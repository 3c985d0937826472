//! An incremental Server-Sent Events parser (the WHATWG event-stream format): bytes in, events
//! out, with a bound on how large one event may grow (a larger one is dropped, and counted).

/// One dispatched event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseMessage {
    pub event: String,
    pub data: String,
    pub id: Option<String>,
}

/// What one chunk of bytes produced.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub messages: Vec<SseMessage>,
    /// Comment lines seen (the server's keep-alives): proof the stream is alive.
    pub comments: usize,
    /// Events dropped for being larger than the limit.
    pub dropped: usize,
}

pub struct SseParser {
    buf: Vec<u8>,
    event: String,
    data: String,
    has_data: bool,
    id: Option<String>,
    limit: usize,
    skip_lf: bool,
    /// Inside an oversized event: skip to its end (a blank line), then carry on.
    discarding: bool,
    /// While discarding: whether the current line had any bytes (so is not the blank one).
    discard_line: bool,
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
            discarding: false,
            discard_line: false,
        }
    }

    pub fn feed(&mut self, chunk: &[u8]) -> Parsed {
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
                    if self.discarding {
                        // The oversized event ends at the next blank line; its other lines
                        // (more data, its id) go with it.
                        self.discarding = self.discard_line;
                        self.discard_line = false;
                        continue;
                    }
                    self.line(&String::from_utf8_lossy(&line), &mut out);
                }
                _ if self.discarding => self.discard_line = true,
                _ => {
                    self.buf.push(b);
                    if self.buf.len() + self.data.len() > self.limit {
                        // Drop this event and carry on: reconnecting would only replay it.
                        self.buf.clear();
                        self.data.clear();
                        self.event.clear();
                        self.has_data = false;
                        self.discarding = true;
                        self.discard_line = true;
                        out.dropped += 1;
                    }
                }
            }
        }
        out
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
            let parsed = p.feed(chunk);
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
    fn an_oversized_event_is_dropped_and_the_stream_goes_on() {
        let mut p = SseParser::new(1000);
        let mut input = b"event: incident\ndata: ".to_vec();
        input.extend(vec![b'a'; 2000]);
        input.extend(b"\n\nevent: camera\ndata: {}\n\n");
        let parsed = p.feed(&input);
        assert_eq!(parsed.dropped, 1);
        assert_eq!(
            parsed.messages,
            vec![SseMessage {
                event: "camera".into(),
                data: "{}".into(),
                id: None
            }]
        );
    }

    #[test]
    fn every_line_of_an_oversized_event_is_dropped_with_it() {
        let mut p = SseParser::new(100);
        let mut input = b"event: incident\ndata: ".to_vec();
        input.extend(vec![b'a'; 200]);
        // The rest of the oversized event must not leak out as an event of its own.
        input.extend(b"\ndata: {\"tail\":1}\nid: 9-9\n\nevent: camera\ndata: {}\n\n");
        let mut got = Vec::new();
        let mut dropped = 0;
        // Fed byte by byte too: the state must survive chunk boundaries.
        for chunk in input.chunks(7) {
            let parsed = p.feed(chunk);
            dropped += parsed.dropped;
            got.extend(parsed.messages);
        }
        assert_eq!(dropped, 1);
        assert_eq!(
            got,
            vec![SseMessage {
                event: "camera".into(),
                data: "{}".into(),
                id: None
            }]
        );
    }
}
