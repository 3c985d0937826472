//! The layers of `src/`: every `crate::…` path (and `ioc_console::…` in `src/main.rs`, and a
//! `super::` that climbs out of its module) is read and held against the module table of
//! `docs/architecture.md`. The table is the rule: a module may import only the modules its row
//! names, and a row may name only modules of rows above it, of its own layer or a lower one, so
//! the allowed graph has no circle. A wrong import fails here with its file and line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::support::repo;

/// One row of the table.
#[derive(Debug)]
struct Row {
    module: String,
    layer: String,
    may_import: BTreeSet<String>,
}

/// The module table of `docs/architecture.md`: the first table whose header starts with
/// `| module | layer |` under the heading `## Layers`.
fn table(doc: &str) -> Result<Vec<Row>, String> {
    let section = format!("\n{doc}");
    let section = section
        .split("\n## ")
        .find(|s| s.starts_with("Layers"))
        .ok_or("docs/architecture.md has no `## Layers` section")?;
    let mut rows = Vec::new();
    let mut in_table = false;
    for line in section.lines() {
        let line = line.trim();
        if !in_table {
            in_table = line.starts_with("| module | layer |");
            continue;
        }
        if !line.starts_with('|') {
            break;
        }
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        if cells
            .iter()
            .all(|c| c.chars().all(|ch| ch == '-' || ch == ' '))
        {
            continue;
        }
        if cells.len() < 4 {
            return Err(format!(
                "a row of the module table has {} cells: {line}",
                cells.len()
            ));
        }
        let names = |cell: &str| -> BTreeSet<String> {
            cell.split(',')
                .map(|n| n.trim().trim_matches('`').to_owned())
                .filter(|n| !n.is_empty() && n != "—")
                .collect()
        };
        rows.push(Row {
            module: cells[0].trim_matches('`').to_owned(),
            layer: cells[1].to_owned(),
            may_import: names(cells[cells.len() - 1]),
        });
    }
    if rows.is_empty() {
        return Err("the `## Layers` section has no `| module | layer | … |` table".into());
    }
    Ok(rows)
}

/// The layers, lowest first, in the order the table first names them; rows must come in that
/// order and name only rows above them, of their own layer or below.
fn check_table(rows: &[Row]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut layers: Vec<&str> = Vec::new();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for row in rows {
        if layers.last() != Some(&row.layer.as_str()) {
            if layers.contains(&row.layer.as_str()) {
                problems.push(format!(
                    "`{}`: layer `{}` comes back after a higher layer; keep each layer's rows together",
                    row.module, row.layer
                ));
            }
            layers.push(&row.layer);
        }
        let rank = layers.len() - 1;
        for dep in &row.may_import {
            match seen.get(dep.as_str()) {
                None => problems.push(format!(
                    "`{}` may import `{dep}`, which is not a row above it",
                    row.module
                )),
                Some(&r) if r > rank => problems.push(format!(
                    "`{}` may import `{dep}` of a higher layer",
                    row.module
                )),
                Some(_) => {}
            }
        }
        if seen.insert(&row.module, rank).is_some() {
            problems.push(format!("`{}` has two rows", row.module));
        }
    }
    problems
}

/// Blanks comments and the contents of string and character literals (keeping line breaks),
/// so that a path written in a comment or a string is not read as an import.
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    let blank = |out: &mut String, s: &[u8]| {
        for &c in s {
            out.push(if c == b'\n' { '\n' } else { ' ' });
        }
    };
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"//") {
            let end = rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
            blank(&mut out, &rest[..end]);
            i += end;
        } else if rest.starts_with(b"/*") {
            let mut depth = 0;
            let mut j = 0;
            while j < rest.len() {
                if rest[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if rest[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            blank(&mut out, &rest[..j]);
            i += j;
        } else if rest[0] == b'r'
            && (rest.get(1) == Some(&b'"') || rest.get(1) == Some(&b'#'))
            && (i == 0 || !is_ident(b[i - 1]))
        {
            let hashes = rest[1..].iter().take_while(|&&c| c == b'#').count();
            if rest.get(1 + hashes) != Some(&b'"') {
                out.push('r');
                i += 1;
                continue;
            }
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            let body = 2 + hashes;
            let end = rest[body..]
                .windows(close.len())
                .position(|w| w == close.as_slice())
                .map_or(rest.len(), |p| body + p + close.len());
            blank(&mut out, &rest[..end]);
            i += end;
        } else if rest[0] == b'"' {
            let mut j = 1;
            while j < rest.len() && rest[j] != b'"' {
                j += if rest[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(rest.len());
            blank(&mut out, &rest[..end]);
            i += end;
        } else if rest[0] == b'\'' {
            // A character literal ('a', '\n', '\u{1F600}'), not a lifetime ('a).
            let lit = if rest.get(1) == Some(&b'\\') {
                rest[2..].iter().position(|&c| c == b'\'').map(|p| p + 3)
            } else {
                let ch = std::str::from_utf8(&rest[1..rest.len().min(6)])
                    .ok()
                    .or_else(|| std::str::from_utf8(&rest[1..]).ok())
                    .and_then(|s| s.chars().next());
                ch.and_then(|c| {
                    let n = 1 + c.len_utf8();
                    (rest.get(n) == Some(&b'\'')).then_some(n + 1)
                })
            };
            match lit {
                Some(n) => {
                    blank(&mut out, &rest[..n]);
                    i += n;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            let ch = src[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The first segments after `prefix::` at byte `at`: one name, or each item of a `{…}` group.
fn targets_after(code: &str, at: usize) -> Vec<String> {
    let rest = code[at..].trim_start();
    if let Some(group) = rest.strip_prefix('{') {
        let mut depth = 1;
        let mut items = Vec::new();
        let mut cur = String::new();
        for ch in group.chars() {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                ',' if depth == 1 => {
                    items.push(std::mem::take(&mut cur));
                    continue;
                }
                _ => {}
            }
            if depth >= 1 {
                cur.push(ch);
            }
        }
        items.push(cur);
        items
            .iter()
            .filter_map(|i| {
                let name: String = i
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                (!name.is_empty()).then_some(name)
            })
            .collect()
    } else {
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if name.is_empty() { vec![] } else { vec![name] }
    }
}

/// Every import of another top-level module in one file: (line, imported module).
fn imports(file_module: &[String], code: &str, crate_names: &[&str]) -> Vec<(usize, String)> {
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    let bytes = code.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < code.len() {
        let starts_word = i == 0 || !(is_ident(bytes[i - 1]) || bytes[i - 1] == b':');
        if !starts_word {
            i += 1;
            continue;
        }
        let rest = &code[i..];
        if let Some(name) = crate_names
            .iter()
            .find(|n| rest.starts_with(**n) && rest[n.len()..].starts_with("::"))
        {
            let at = i + name.len() + 2;
            for t in targets_after(code, at) {
                found.push((line_of(i), t));
            }
            i = at;
            continue;
        }
        if rest.starts_with("super::") {
            // Climb: each `super::` leaves one module; past the top-level module the next name
            // is another top-level module.
            let mut depth = file_module.len();
            let mut at = i;
            while code[at..].starts_with("super::") {
                depth = depth.saturating_sub(1);
                at += "super::".len();
            }
            if depth == 0 {
                for t in targets_after(code, at) {
                    found.push((line_of(i), t));
                }
            }
            i = at;
            continue;
        }
        i += 1;
    }
    found
}

/// The module path of a file under `src/` (`src/tiles/map.rs` → [tiles, map]; `mod.rs` is its
/// folder; `src/main.rs` → [main]).
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap_or(file).with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Every import against the table, as `file:line: …` lines.
fn violations(src: &Path, rows: &[Row]) -> Vec<String> {
    let allowed: BTreeMap<&str, &Row> = rows.iter().map(|r| (r.module.as_str(), r)).collect();
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut problems = Vec::new();
    for file in files {
        let module = module_path(src, &file);
        let Some(top) = module.first() else { continue };
        if top == "lib" {
            continue;
        }
        let shown = file
            .strip_prefix(src.parent().unwrap_or(src))
            .unwrap_or(&file)
            .display()
            .to_string();
        let Some(row) = allowed.get(top.as_str()) else {
            problems.push(format!(
                "{shown}: module `{top}` has no row in the table of docs/architecture.md"
            ));
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        let code = code_only(&text);
        let names: &[&str] = if top == "main" {
            &["crate", "ioc_console"]
        } else {
            &["crate"]
        };
        for (line, target) in imports(&module, &code, names) {
            if &target == top || target == "self" || row.may_import.contains(&target) {
                continue;
            }
            if !allowed.contains_key(target.as_str()) {
                // A crate-root item that is not a module (none exist today): name it too.
                problems.push(format!(
                    "{shown}:{line}: `{top}` imports `crate::{target}`, which is not a module of the table"
                ));
                continue;
            }
            problems.push(format!(
                "{shown}:{line}: `{top}` imports `{target}`, against the table in docs/architecture.md ({} layer `{}` may import: {})",
                top,
                row.layer,
                if row.may_import.is_empty() {
                    "nothing".to_owned()
                } else {
                    row.may_import.iter().cloned().collect::<Vec<_>>().join(", ")
                }
            ));
        }
    }
    problems
}

/// The top-level modules `src/lib.rs` declares.
fn declared_modules(lib: &str) -> BTreeSet<String> {
    code_only(lib)
        .lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("pub mod ")
                .or_else(|| l.trim().strip_prefix("mod "))
        })
        .map(|l| l.trim_end_matches(';').trim().to_owned())
        .collect()
}

#[test]
fn every_import_follows_the_layers_of_the_architecture_document() {
    let doc = std::fs::read_to_string(repo().join("docs/architecture.md")).unwrap();
    let rows = table(&doc).unwrap();
    let problems = check_table(&rows);
    assert!(
        problems.is_empty(),
        "the module table itself:\n{}",
        problems.join("\n")
    );

    let lib = std::fs::read_to_string(repo().join("src/lib.rs")).unwrap();
    let declared = declared_modules(&lib);
    let in_table: BTreeSet<String> = rows.iter().map(|r| r.module.clone()).collect();
    let missing: Vec<_> = declared.difference(&in_table).collect();
    assert!(
        missing.is_empty(),
        "modules of src/lib.rs without a row: {missing:?}"
    );
    let extra: Vec<_> = in_table
        .iter()
        .filter(|m| m.as_str() != "main" && !declared.contains(*m))
        .collect();
    assert!(
        extra.is_empty(),
        "rows for modules src/lib.rs does not declare: {extra:?}"
    );

    let problems = violations(&repo().join("src"), &rows);
    assert!(
        problems.is_empty(),
        "imports against the layers:\n{}",
        problems.join("\n")
    );
}

/// The checker finds what it is for: a planted wrong import, one in a group, one climbing with
/// `super::`, and none in comments or strings.
#[test]
fn the_layer_check_catches_wrong_imports() {
    let rows = table(
        "# t\n\n## Layers\n\n| module | layer | owns | may import |\n| --- | --- | --- | --- |\n\
         | `model` | core | x | — |\n| `store` | data | x | `model` |\n| `tiles` | tiles | x | `store`, `model` |\n",
    )
    .unwrap();
    assert!(check_table(&rows).is_empty());
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("store")).unwrap();
    std::fs::create_dir_all(src.join("tiles")).unwrap();
    std::fs::write(
        src.join("model.rs"),
        "// crate::tiles in a comment\nlet s = \"crate::store\";\n",
    )
    .unwrap();
    std::fs::write(
        src.join("store/mod.rs"),
        "use crate::model::Unit;\nuse crate::{model::X, tiles::TileView};\n",
    )
    .unwrap();
    std::fs::write(src.join("store/deep.rs"), "use super::super::tiles::x;\n").unwrap();
    std::fs::write(
        src.join("tiles/map.rs"),
        "use crate::store::Store;\nfn f() { crate::model::g(); }\n",
    )
    .unwrap();
    let found = violations(&src, &rows);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found[0].starts_with("src/store/deep.rs:1:") && found[0].contains("`tiles`"),
        "{found:#?}"
    );
    assert!(
        found[1].starts_with("src/store/mod.rs:2:") && found[1].contains("`tiles`"),
        "{found:#?}"
    );

    // A table that allows an import of a higher layer, or of a row below, is refused.
    let bad = table(
        "## Layers\n\n| module | layer | owns | may import |\n|---|---|---|---|\n\
         | `model` | core | x | `store` |\n| `store` | data | x | `model` |\n",
    )
    .unwrap();
    assert_eq!(check_table(&bad).len(), 1, "{:?}", check_table(&bad));
}
