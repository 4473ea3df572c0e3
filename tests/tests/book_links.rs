//! The book has no broken links: every relative link and image in `book/src` and `book/zh/src`
//! (Markdown `[text](target)`, `![alt](target)`, and HTML `href`/`src` attributes) names a file
//! that exists inside the same book's `src` — mdBook copies only `src` into the built book, so a
//! link that climbs out of it (`../../scenarios/x.toml`) is broken on the web even though the file
//! exists in the repository — and a `#fragment` names a heading of the target page (the ids
//! mdBook gives headings). Links inside code (fenced blocks and inline code) are not links;
//! `http:`, `https:` and `mailto:` links are not followed.
//!
//! mdbook-linkcheck does the same on the built HTML, but it is one more tool to install; this test
//! runs with `cargo test` and names the file and line of each broken link.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

/// A link found in a page: 1-based line and the raw target.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Link {
    line: usize,
    target: String,
}

/// The text of a page with fenced code blocks and inline code blanked out (line numbers kept).
fn without_code(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fence: Option<(char, usize)> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let opener = |c: char| trimmed.chars().take_while(|&x| x == c).count();
        match fence {
            Some((c, n)) => {
                if opener(c) >= n && trimmed.trim_end().chars().all(|x| x == c) {
                    fence = None;
                }
                out.push(String::new());
            }
            None => {
                let (ticks, tildes) = (opener('`'), opener('~'));
                if ticks >= 3 {
                    fence = Some(('`', ticks));
                    out.push(String::new());
                } else if tildes >= 3 {
                    fence = Some(('~', tildes));
                    out.push(String::new());
                } else {
                    // Inline code: blank what sits between backtick runs.
                    let mut s = String::new();
                    let mut in_code = false;
                    for ch in line.chars() {
                        if ch == '`' {
                            in_code = !in_code;
                            s.push(' ');
                        } else {
                            s.push(if in_code { ' ' } else { ch });
                        }
                    }
                    out.push(s);
                }
            }
        }
    }
    out
}

/// Every link target of a page: `](target)` (links and images; a title after a space is dropped)
/// and `href="…"` / `src="…"`.
fn links(text: &str) -> Vec<Link> {
    let mut found = Vec::new();
    for (i, line) in without_code(text).iter().enumerate() {
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            let target = after[..end].trim();
            let target = target.split_whitespace().next().unwrap_or("");
            let target = target.trim_start_matches('<').trim_end_matches('>');
            found.push(Link { line: i + 1, target: target.to_string() });
            rest = &after[end..];
        }
        for attr in ["href=\"", "src=\""] {
            let mut rest = line.as_str();
            while let Some(at) = rest.find(attr) {
                let after = &rest[at + attr.len()..];
                let Some(end) = after.find('"') else { break };
                found.push(Link { line: i + 1, target: after[..end].to_string() });
                rest = &after[end..];
            }
        }
    }
    found
}

/// mdBook's heading id (`utils::normalize_id`) of a heading's text, after the inline Markdown it
/// renders away (code spans, emphasis, link targets).
fn heading_id(heading: &str) -> String {
    let mut text = String::new();
    let mut rest = heading;
    // [text](url) → text
    while let Some(open) = rest.find('[') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match (after.find("]("), after.find(')')) {
            (Some(close), Some(paren)) if close < paren => {
                text.push_str(&after[..close]);
                rest = &after[paren + 1..];
            }
            _ => {
                text.push('[');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    text.chars()
        .filter(|c| *c != '`' && *c != '*')
        .filter_map(|ch| {
            if ch.is_alphanumeric() || ch == '_' || ch == '-' {
                Some(ch.to_ascii_lowercase())
            } else if ch.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// The ids of a page's headings (`#`…`######` outside code), with mdBook's `-1`, `-2` suffixes
/// for repeats.
fn heading_ids(text: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let lines: Vec<&str> = text.lines().collect();
    for (i, stripped) in without_code(text).iter().enumerate() {
        let hashes = stripped.chars().take_while(|&c| c == '#').count();
        if (1..=6).contains(&hashes) && stripped[hashes..].starts_with(' ') {
            // The original line: inline code is part of the heading's text.
            let original = lines[i];
            let base = heading_id(original[hashes..].trim());
            let mut id = base.clone();
            let mut n = 1;
            while ids.contains(&id) {
                id = format!("{base}-{n}");
                n += 1;
            }
            ids.insert(id);
        }
    }
    ids
}

/// `base/rel`, with `.` and `..` resolved lexically; `None` if it climbs above `root`.
fn resolve_inside(root: &Path, page_dir: &Path, rel: &str) -> Option<PathBuf> {
    let mut parts: Vec<Component> = Vec::new();
    let joined = page_dir.join(rel);
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::CurDir => {}
            other => parts.push(other),
        }
    }
    let path: PathBuf = parts.iter().collect();
    path.starts_with(root).then_some(path)
}

/// The broken links of one page, as `file:line: target: why`.
fn check_page(src: &Path, page: &Path, text: &str) -> Vec<String> {
    let name = page
        .strip_prefix(src.parent().and_then(Path::parent).unwrap_or(src))
        .unwrap_or(page)
        .display()
        .to_string();
    let page_dir = page.parent().unwrap_or(src);
    let mut broken = Vec::new();
    for link in links(text) {
        let t = link.target.as_str();
        if t.starts_with("http://") || t.starts_with("https://") || t.starts_with("mailto:") {
            continue;
        }
        if t.is_empty() {
            broken.push(format!("{name}:{}: empty link target (a draft chapter?)", link.line));
            continue;
        }
        let (path_part, fragment) = match t.split_once('#') {
            Some((p, f)) => (p, Some(f)),
            None => (t, None),
        };
        let target_file = if path_part.is_empty() {
            page.to_path_buf()
        } else {
            match resolve_inside(src, page_dir, path_part) {
                Some(p) => p,
                None => {
                    broken.push(format!(
                        "{name}:{}: {t}: points outside the book's src (mdBook does not copy it)",
                        link.line
                    ));
                    continue;
                }
            }
        };
        if !target_file.is_file() {
            broken.push(format!("{name}:{}: {t}: no such file", link.line));
            continue;
        }
        if let Some(fragment) = fragment.filter(|f| !f.is_empty()) {
            if target_file.extension().is_some_and(|e| e == "md") {
                let target_text = std::fs::read_to_string(&target_file).unwrap_or_default();
                if !heading_ids(&target_text).contains(fragment) {
                    broken
                        .push(format!("{name}:{}: {t}: no heading with id #{fragment}", link.line));
                }
            }
        }
    }
    broken
}

#[test]
fn every_relative_link_and_image_in_the_book_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../book");
    let root = root.canonicalize().unwrap_or(root);
    let mut checked = 0;
    let mut broken = Vec::new();
    for src in [root.join("src"), root.join("zh/src")] {
        if !src.is_dir() {
            continue;
        }
        let mut files = Vec::new();
        lab_tests::markdown_files(&src, &mut files);
        for page in &files {
            let text = std::fs::read_to_string(page)
                .unwrap_or_else(|e| panic!("reading {}: {e}", page.display()));
            checked += links(&text).len();
            broken.extend(check_page(&src, page, &text));
        }
    }
    assert!(checked > 10, "only {checked} links found: the parser is not reading the book");
    assert!(broken.is_empty(), "{} broken links in the book:\n{}", broken.len(), broken.join("\n"));
    eprintln!("{checked} links, none broken");
}

#[test]
fn every_chapter_in_each_summary_exists_and_every_chapter_is_in_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../book");
    for src in [root.join("src"), root.join("zh/src")] {
        if !src.is_dir() {
            continue;
        }
        let summary = std::fs::read_to_string(src.join("SUMMARY.md"))
            .unwrap_or_else(|e| panic!("{}/SUMMARY.md: {e}", src.display()));
        let listed: BTreeSet<String> = links(&summary).into_iter().map(|l| l.target).collect();
        let mut files = Vec::new();
        lab_tests::markdown_files(&src, &mut files);
        for page in files {
            let rel = page.strip_prefix(&src).unwrap_or(&page).to_string_lossy().replace('\\', "/");
            if rel == "SUMMARY.md" {
                continue;
            }
            // With `create-missing = false` mdBook silently leaves an unlisted page out of the book.
            assert!(
                listed.contains(&rel),
                "{}/{rel} is not in SUMMARY.md, so it is not in the built book",
                src.display()
            );
        }
    }
}

/// The checker finds what it must: a missing file, a link out of `src`, a bad anchor, an empty
/// target — and ignores code, external links and good anchors.
#[test]
fn the_checker_reports_bad_links_and_only_those() {
    let dir = std::env::temp_dir().join(format!("book-links-{}", std::process::id()));
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("img")).expect("temp dir");
    std::fs::write(src.join("img/ok.svg"), "<svg/>").expect("write");
    let other = "# Other page\n\n## 2. The `myid` mistake\n\n## Try it\n\n## Try it\n";
    std::fs::write(src.join("other.md"), other).expect("write");
    let page = "\
# A page

See [the other page](other.md), [its section](other.md#2-the-myid-mistake),
[the second Try it](other.md#try-it-1) and ![a figure](img/ok.svg).
[Kafka](https://kafka.apache.org/) is external. `[not](a-link.md)` is code.

```text
[also](not-a-link.md)
```

Broken: [missing](missing.md), ![gone](img/gone.svg), [out](../../scenarios/x.toml),
[anchor](other.md#no-such-heading), [draft]() and <img src=\"figures/none.svg\">.
";
    std::fs::write(src.join("page.md"), page).expect("write");
    let got = check_page(&src, &src.join("page.md"), page);
    let _ = std::fs::remove_dir_all(&dir);
    let reasons: Vec<&str> = got.iter().map(|l| l.split_once(": ").map_or("", |x| x.1)).collect();
    assert_eq!(
        reasons,
        vec![
            "missing.md: no such file",
            "img/gone.svg: no such file",
            "../../scenarios/x.toml: points outside the book's src (mdBook does not copy it)",
            "other.md#no-such-heading: no heading with id #no-such-heading",
            "empty link target (a draft chapter?)",
            "figures/none.svg: no such file",
        ],
        "{got:#?}"
    );
    assert!(got.iter().all(|l| l.contains("page.md:11:") || l.contains("page.md:12:")), "{got:#?}");
}

#[test]
fn heading_ids_follow_mdbook() {
    assert_eq!(
        heading_id("2. The post's mistake: a `myid` that matches no `server.N`"),
        "2-the-posts-mistake-a-myid-that-matches-no-servern"
    );
    assert_eq!(
        heading_id("One group is a queue, many groups are a broadcast"),
        "one-group-is-a-queue-many-groups-are-a-broadcast"
    );
    assert_eq!(heading_id("勘误：零拷贝"), "勘误零拷贝");
    assert_eq!(heading_id("See [Kafka](https://kafka.apache.org)"), "see-kafka");
}

/// The course's shape: each lesson's chapter, in both editions where it exists, ends with a
/// "Try it" section that runs the lesson (`lab lesson run ID`) and an "Exercise" section naming
/// its graded exercise when it has one — the ids `lab lesson` and `lab grade` use.
#[test]
fn every_lesson_chapter_has_try_it_and_its_exercise() {
    const LESSONS: &[(&str, &str, Option<&str>)] = &[
        ("installing-zookeeper.md", "zk-install", Some("fle-vote-order")),
        ("zk-data-model.md", "zk-data-model", Some("zk-lock-recipe")),
        ("installing-kafka.md", "kafka-install", None),
        ("partitions-keys.md", "partitions-keys", Some("murmur2-partitioner")),
        ("replication.md", "replication-acks", Some("high-watermark")),
        ("failover.md", "failover-unclean", Some("controller-leader-election")),
        ("consumer-groups.md", "consumer-groups", Some("range-assignor")),
        ("offsets.md", "offsets-semantics", None),
        ("zero-copy.md", "zero-copy", None),
        ("retention.md", "retention-replay", None),
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../book");
    let summary = std::fs::read_to_string(root.join("src/SUMMARY.md")).expect("SUMMARY.md");
    let order: Vec<String> = links(&summary)
        .into_iter()
        .map(|l| l.target)
        .filter(|t| LESSONS.iter().any(|(f, _, _)| f == t))
        .collect();
    assert_eq!(
        order,
        LESSONS.iter().map(|(f, _, _)| f.to_string()).collect::<Vec<_>>(),
        "lesson chapters out of the seed's order in SUMMARY.md"
    );
    for (src, try_it, exercise) in
        [("src", "## Try it", "## Exercise"), ("zh/src", "## 动手试试", "## 练习")]
    {
        for (file, lesson, graded) in LESSONS {
            let Ok(text) = std::fs::read_to_string(root.join(src).join(file)) else {
                assert_eq!(src, "zh/src", "book/src/{file} is missing");
                continue;
            };
            let t = text
                .find(try_it)
                .unwrap_or_else(|| panic!("book/{src}/{file}: no {try_it:?} section"));
            assert!(
                text[t..].contains(&format!("lab lesson run {lesson}")),
                "book/{src}/{file}: its {try_it:?} does not run `lab lesson run {lesson}`"
            );
            let e = text
                .rfind(exercise)
                .unwrap_or_else(|| panic!("book/{src}/{file}: no {exercise:?} section"));
            assert!(e > t, "book/{src}/{file}: the exercise comes after \"Try it\"");
            if let Some(name) = graded {
                assert!(
                    text[e..].contains(&format!("lab grade {name}"))
                        && text[e..].contains(&format!("exercises/{name}/")),
                    "book/{src}/{file}: its exercise section does not name `{name}`"
                );
            }
        }
    }
}

/// The Chinese edition carries copies of the figures it shows (mdBook only serves what is in its
/// own `src`); each copy must be byte for byte the English book's file of the same path, which the
/// figure tests (`plots.rs`, `lab/tests/bench.rs`) keep true to the lab.
#[test]
fn chinese_figures_are_copies_of_the_english_ones() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../book");
    let zh = root.join("zh/src");
    if !zh.is_dir() {
        return;
    }
    let mut files = Vec::new();
    lab_tests::markdown_files(&zh, &mut files);
    for page in files {
        let text = std::fs::read_to_string(&page).unwrap_or_default();
        for link in links(&text) {
            let t = link.target.split('#').next().unwrap_or("");
            if !(t.ends_with(".svg") || t.ends_with(".png")) || t.contains("://") {
                continue;
            }
            let rel =
                page.parent().unwrap_or(&zh).strip_prefix(&zh).unwrap_or(Path::new("")).join(t);
            let (copy, original) = (zh.join(&rel), root.join("src").join(&rel));
            let (Ok(a), Ok(b)) = (std::fs::read(&copy), std::fs::read(&original)) else {
                panic!(
                    "{}:{}: {t}: needs both {} and {}",
                    page.display(),
                    link.line,
                    copy.display(),
                    original.display()
                );
            };
            assert!(
                a == b,
                "{} differs from {}: copy the English figure again",
                copy.display(),
                original.display()
            );
        }
    }
}
