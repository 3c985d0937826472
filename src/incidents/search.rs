//! Search that matches with or without Vietnamese diacritics: "ngap" finds "ngập", "dong khoi"
//! finds "Đồng Khởi". Text is folded once (per incident version) and queries are folded the same
//! way.

use unicode_normalization::UnicodeNormalization as _;

/// The folded form of every character below U+2000 (Latin, Vietnamese letters included), so
/// that folding is a table lookup; other characters go through NFD.
fn table() -> &'static [char] {
    static TABLE: std::sync::OnceLock<Vec<char>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        (0u32..0x2000)
            .map(|u| {
                let c = char::from_u32(u).unwrap_or('\0');
                slow_fold_char(c)
            })
            .collect()
    })
}

/// '\0' means "drop" (a combining mark).
fn slow_fold_char(c: char) -> char {
    if unicode_normalization::char::is_combining_mark(c) {
        return '\0';
    }
    let base = c.nfd().next().unwrap_or(c);
    match base {
        'đ' | 'Đ' => 'd',
        b => b.to_lowercase().next().unwrap_or(b),
    }
}

/// Lower case, without combining marks, đ→d. Whitespace runs become one space.
pub fn fold(text: &str) -> String {
    let table = table();
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            if !space && !out.is_empty() {
                out.push(' ');
            }
            space = true;
            continue;
        }
        space = false;
        let f = match table.get(c as usize) {
            Some(&f) => f,
            None => slow_fold_char(c),
        };
        if f != '\0' {
            out.push(f);
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Whether every word of the (folded) query occurs in the folded text. A word is a run of
/// letters and digits: punctuation separates words, so "pa-04438" finds "PA-20261128-04438"
/// (both "pa" and "04438" occur) and "khoi," finds "Đồng Khởi".
pub fn matches(folded_text: &str, folded_query: &str) -> bool {
    runs(folded_query).all(|w| folded_text.contains(w))
}

/// The letters and digits runs of a folded text (its words, as the index keeps them).
fn runs(folded: &str) -> impl Iterator<Item = &str> {
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|r| !r.is_empty())
}

/// A bit per character class: a–z and 0–9 one each, anything else shares the last bit.
fn sig_bit(c: char) -> u64 {
    match c {
        'a'..='z' => 1 << (c as u32 - 'a' as u32),
        '0'..='9' => 1 << (26 + c as u32 - '0' as u32),
        _ => 1 << 36,
    }
}

fn signature(folded: &str) -> u64 {
    folded.chars().fold(0, |s, c| s | sig_bit(c))
}

/// Rows, as a bit set over their positions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowSet(Vec<u64>);

impl RowSet {
    fn empty(n: usize) -> RowSet {
        RowSet(vec![0; n.div_ceil(64)])
    }

    fn insert(&mut self, i: u32) {
        if let Some(w) = self.0.get_mut(i as usize / 64) {
            *w |= 1 << (i % 64);
        }
    }

    pub fn contains(&self, i: u32) -> bool {
        self.0
            .get(i as usize / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    fn intersect(&mut self, other: &RowSet) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= b;
        }
    }
}

/// What a query found in the index: the rows that match it.
#[derive(Clone, Debug)]
pub struct Candidates {
    pub rows: RowSet,
}

/// The search index over folded texts: every distinct word (run of letters and digits) with
/// the rows that hold it, and the words found again by their grams: each pair and each triple of
/// bytes points to the words that contain it. A query word of two or three bytes is then one
/// gram's list (exact); a longer one the words in all of its triples' lists, each checked; one
/// letter or digit reads a signature of each row. A query word matches a row when it occurs in
/// the row's folded text, as [`matches`] says; the index finds the same rows without reading
/// every text, and a word that is in every row (the "00" of "PA-0000123") costs one pass over
/// its rows, not one search per word.
#[derive(Clone, Debug, Default)]
pub struct SearchIndex {
    /// Every word, one after the other.
    words: String,
    /// Where each word starts in `words`, ascending; a word ends where the next starts.
    starts: Vec<u32>,
    ids: std::collections::HashMap<Box<str>, u32>,
    /// The rows of each word, ascending.
    postings: Vec<Rows>,
    /// Byte pair → the words holding it, ascending.
    pairs: std::collections::HashMap<[u8; 2], Vec<u32>>,
    /// Byte triple → the words holding it, ascending.
    triples: std::collections::HashMap<[u8; 3], Vec<u32>>,
    signatures: Vec<u64>,
}

/// The rows of one word, ascending; a word of one row (an incident's own number) keeps it
/// inline, so reading many such words reads one array rather than one allocation each.
#[derive(Clone, Debug, Default)]
enum Rows {
    #[default]
    None,
    One(u32),
    Many(Vec<u32>),
}

impl Rows {
    fn as_slice(&self) -> &[u32] {
        match self {
            Rows::None => &[],
            Rows::One(r) => std::slice::from_ref(r),
            Rows::Many(v) => v,
        }
    }

    fn insert(&mut self, row: u32) {
        match self {
            Rows::None => *self = Rows::One(row),
            Rows::One(a) if *a == row => {}
            Rows::One(a) => {
                *self = Rows::Many(if *a < row {
                    vec![*a, row]
                } else {
                    vec![row, *a]
                })
            }
            Rows::Many(v) => {
                if let Err(at) = v.binary_search(&row) {
                    v.insert(at, row);
                }
            }
        }
    }

    fn remove(&mut self, row: u32) {
        match self {
            Rows::One(a) if *a == row => *self = Rows::None,
            Rows::Many(v) => {
                if let Ok(at) = v.binary_search(&row) {
                    v.remove(at);
                }
            }
            _ => {}
        }
    }
}

/// Appends `id` to a gram's list once (words are numbered in order, so lists stay ascending).
fn add_once(list: &mut Vec<u32>, id: u32) {
    if list.last() != Some(&id) {
        list.push(id);
    }
}

/// The items of `a` that are also in the ascending `b`.
fn intersect_sorted(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    if a.len() * 16 < b.len() {
        // A short list against a long one: look each up.
        out.extend(a.iter().copied().filter(|x| b.binary_search(x).is_ok()));
        return out;
    }
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

impl SearchIndex {
    fn word(&self, id: u32) -> &[u8] {
        let from = self.starts[id as usize] as usize;
        let to = self
            .starts
            .get(id as usize + 1)
            .map_or(self.words.len(), |&e| e as usize);
        &self.words.as_bytes()[from..to]
    }

    fn word_id(&mut self, w: &str) -> u32 {
        if let Some(&id) = self.ids.get(w) {
            return id;
        }
        let id = self.starts.len() as u32;
        self.starts.push(self.words.len() as u32);
        self.words.push_str(w);
        self.ids.insert(w.into(), id);
        self.postings.push(Rows::None);
        let b = w.as_bytes();
        for p in b.windows(2) {
            add_once(self.pairs.entry([p[0], p[1]]).or_default(), id);
        }
        for t in b.windows(3) {
            add_once(self.triples.entry([t[0], t[1], t[2]]).or_default(), id);
        }
        id
    }

    fn distinct_runs(folded: &str) -> Vec<&str> {
        let mut v: Vec<&str> = runs(folded).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Adds row `row` (rows are added in order: 0, 1, 2, …).
    pub fn push(&mut self, row: u32, folded: &str) {
        for w in Self::distinct_runs(folded) {
            let id = self.word_id(w);
            self.postings[id as usize].insert(row);
        }
        if self.signatures.len() <= row as usize {
            self.signatures.resize(row as usize + 1, 0);
        }
        self.signatures[row as usize] = signature(folded);
    }

    /// Row `row`'s text changed from `old` to `new`.
    pub fn replace(&mut self, row: u32, old: &str, new: &str) {
        let (old_w, new_w) = (Self::distinct_runs(old), Self::distinct_runs(new));
        for w in old_w.iter().filter(|w| new_w.binary_search(w).is_err()) {
            if let Some(&id) = self.ids.get(*w) {
                self.postings[id as usize].remove(row);
            }
        }
        for w in new_w.iter().filter(|w| old_w.binary_search(w).is_err()) {
            let id = self.word_id(w);
            self.postings[id as usize].insert(row);
        }
        if let Some(s) = self.signatures.get_mut(row as usize) {
            *s = signature(new);
        }
    }

    /// The rows (of `rows` in all) that match the folded query, as [`matches`] says; None for a
    /// query without a word.
    pub fn candidates(&self, folded_query: &str, rows: usize) -> Option<Candidates> {
        let mut all: Option<RowSet> = None;
        for run in runs(folded_query) {
            let set = self.rows_with(run, rows);
            match &mut all {
                Some(a) => a.intersect(&set),
                None => all = Some(set),
            }
        }
        all.map(|rows| Candidates { rows })
    }

    /// The words that contain `run` (letters and digits, at least two bytes), ascending.
    fn words_with(&self, run: &[u8]) -> std::borrow::Cow<'_, [u32]> {
        use std::borrow::Cow;
        if let [a, b] = run {
            return self
                .pairs
                .get(&[*a, *b])
                .map_or(Cow::Borrowed(&[][..]), |l| Cow::Borrowed(l));
        }
        let mut lists: Vec<&Vec<u32>> = Vec::new();
        for t in run.windows(3) {
            match self.triples.get(&[t[0], t[1], t[2]]) {
                Some(l) => lists.push(l),
                None => return Cow::Borrowed(&[]),
            }
        }
        lists.sort_by_key(|l| l.len());
        let Some(first) = lists.first() else {
            return Cow::Borrowed(&[]);
        };
        if lists.len() == 1 {
            // Three bytes: the triple's list is exact.
            return Cow::Borrowed(first);
        }
        let mut words = (*first).clone();
        for l in &lists[1..] {
            if words.is_empty() {
                break;
            }
            words = intersect_sorted(&words, l);
        }
        if run.len() > 3 {
            // Holding every triple does not yet mean holding them in order.
            let finder = memchr::memmem::Finder::new(run);
            words.retain(|&w| finder.find(self.word(w)).is_some());
        }
        Cow::Owned(words)
    }

    /// The rows with a word containing `run` (letters and digits only).
    fn rows_with(&self, run: &str, rows: usize) -> RowSet {
        let mut set = RowSet::empty(rows);
        let mut chars = run.chars();
        if let (Some(c), None) = (chars.next(), chars.next())
            && c.is_ascii_alphanumeric()
        {
            // One letter or digit: the signatures say it exactly.
            let bit = sig_bit(c);
            for (i, s) in self.signatures.iter().enumerate().take(rows) {
                if s & bit != 0 {
                    set.insert(i as u32);
                }
            }
            return set;
        }
        for &w in self.words_with(run.as_bytes()).iter() {
            for &r in self.postings[w as usize].as_slice() {
                set.insert(r);
            }
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_finds_what_matching_finds() {
        let texts = [
            "PA-0000001 Ngập nước tại đường Đồng Khởi",
            "PA-0000002 Rác thải tại chợ Ba Tri",
            "PA-0000013 Cây xanh gãy đổ, khu phố 3",
            "SV-7 Mất an ninh trật tự (ấp Phú Hòa)",
            "Mã abcab, phố Straße 北京路",
        ];
        let folded: Vec<String> = texts.iter().map(|t| fold(t)).collect();
        let mut idx = SearchIndex::default();
        for (i, f) in folded.iter().enumerate() {
            idx.push(i as u32, f);
        }
        let check = |idx: &SearchIndex, folded: &[String], q: &str| {
            let fq = fold(q);
            let want: Vec<usize> = (0..folded.len())
                .filter(|&i| matches(&folded[i], &fq))
                .collect();
            let got: Vec<usize> = match idx.candidates(&fq, folded.len()) {
                None => (0..folded.len()).collect(),
                Some(c) => (0..folded.len())
                    .filter(|&i| c.rows.contains(i as u32))
                    .collect(),
            };
            assert_eq!(got, want, "query {q:?}");
        };
        for q in [
            "",
            "pa-13",
            "pa-0000013",
            "n",
            "ng",
            "ngap",
            "NGẬP nuoc",
            "oi",
            "khoi",
            "tai",
            "0000001",
            "a-00",
            "pa-0000013",
            "13",
            "3",
            "đổ,",
            "gay do",
            "(ap",
            "phu hoa)",
            "x",
            "zz",
            "-",
            "ba tri cho",
            "tr",
            "0000",
            "000001",
            "abcab",
            "abcabc",
            "bcab",
            "ß",
            "北",
            "北京",
            "strasse",
        ] {
            check(&idx, &folded, q);
        }
        // A row whose text changes is found by its new words only.
        let new = fold("PA-0000001 Đèn tín hiệu hỏng tại Quốc lộ 60");
        idx.replace(0, &folded[0].clone(), &new);
        let mut folded = folded;
        folded[0] = new;
        for q in ["ngap", "den tin", "60", "tai", "dong khoi", "quoc lo"] {
            check(&idx, &folded, q);
        }
    }

    #[test]
    fn with_or_without_diacritics() {
        let text = fold("Ngập nước sau triều cường tại đường Đồng Khởi, TP Bến Tre");
        for q in [
            "ngap",
            "ngập",
            "NGẬP",
            "dong khoi",
            "Đồng  Khởi",
            "trieu cuong ben tre",
            "ben tre ngap",
        ] {
            assert!(matches(&text, &fold(q)), "{q}");
        }
        for q in ["ngop", "dong khai", "ba tri"] {
            assert!(!matches(&text, &fold(q)), "{q}");
        }
        // Precomposed and decomposed input fold alike.
        assert_eq!(fold("Thi\u{65}\u{302}\u{300}u"), fold("Thiều"));
        assert_eq!(fold("  Ấp   Phú Hòa "), "ap phu hoa");
        assert!(matches(&text, ""));
        // Punctuation separates words: an id's parts find it.
        let id = fold("PA-20261128-04438 Ngập nước");
        for q in [
            "pa-04438",
            "04438",
            "pa 20261128",
            "20261128-04438",
            "ngap,",
        ] {
            assert!(matches(&id, &fold(q)), "{q}");
        }
        assert!(!matches(&id, &fold("pa-04439")));
    }
}
