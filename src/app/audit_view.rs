//! The audit view on the desk, for technicians and leaders: the trail of this PC filtered by
//! person, action, subject (an incident, a layout) and dates, newest first, exported to CSV. The
//! file is read and written by a worker thread of the view's own (the UI never waits on a disk).

use std::path::PathBuf;
use std::sync::mpsc;

use egui::RichText;

use crate::audit::{self, Audit, Filter, Row};
use crate::context::FrameCtx;
use crate::format;

enum Query {
    Rows(Filter),
    Export(Filter, PathBuf),
}

enum Answer {
    Rows(Result<Vec<Row>, String>),
    Exported(Result<(usize, PathBuf), String>),
}

/// The view's state: the filter's words, the rows found, what the worker said last.
#[derive(Default)]
pub struct AuditView {
    pub open: bool,
    pub who: String,
    pub action: String,
    pub subject: String,
    /// dd/mm/yyyy, Viet Nam's days.
    pub since: String,
    pub until: String,
    pub rows: Vec<Row>,
    pub message: Option<(String, bool)>,
    worker: Option<(mpsc::Sender<Query>, mpsc::Receiver<Answer>)>,
    asked: bool,
}

/// A day typed as dd/mm/yyyy (or yyyy-mm-dd), as the instant it starts in Viet Nam.
fn day(s: &str) -> Option<Option<crate::model::Timestamp>> {
    let s = s.trim();
    if s.is_empty() {
        return Some(None);
    }
    let d = chrono::NaiveDate::parse_from_str(s, "%d/%m/%Y")
        .or_else(|_| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d"))
        .ok()?;
    let local = d.and_hms_opt(0, 0, 0)?;
    Some(
        chrono::TimeZone::from_local_datetime(&format::vietnam_offset(), &local)
            .single()
            .map(|t| t.with_timezone(&chrono::Utc)),
    )
}

impl AuditView {
    fn start(&mut self, path: PathBuf) {
        let (qtx, qrx) = mpsc::channel::<Query>();
        let (atx, arx) = mpsc::channel::<Answer>();
        let spawned = std::thread::Builder::new()
            .name("ioc-audit-view".into())
            .spawn(move || {
                let audit = Audit::open(&path).map_err(|e| e.to_string());
                for q in qrx {
                    let answer = match (&audit, q) {
                        (Err(e), Query::Rows(_)) => Answer::Rows(Err(e.clone())),
                        (Err(e), Query::Export(..)) => Answer::Exported(Err(e.clone())),
                        (Ok(a), Query::Rows(f)) => {
                            Answer::Rows(a.rows(&f).map_err(|e| e.to_string()))
                        }
                        (Ok(a), Query::Export(f, out)) => Answer::Exported(
                            a.rows(&f).map_err(|e| e.to_string()).and_then(|rows| {
                                if let Some(dir) = out.parent() {
                                    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
                                }
                                crate::wall::save::write_atomic(&out, audit::csv(&rows))
                                    .map(|()| (rows.len(), out))
                                    .map_err(|e| e.to_string())
                            }),
                        ),
                    };
                    if atx.send(answer).is_err() {
                        return;
                    }
                }
            });
        match spawned {
            Ok(_) => self.worker = Some((qtx, arx)),
            Err(e) => self.message = Some((e.to_string(), true)),
        }
    }

    fn filter(&self) -> Result<Filter, ()> {
        let opt = |s: &String| (!s.trim().is_empty()).then(|| s.trim().to_owned());
        Ok(Filter {
            who: opt(&self.who),
            action: opt(&self.action),
            subject: opt(&self.subject),
            since: day(&self.since).ok_or(())?,
            until: day(&self.until)
                .ok_or(())?
                .map(|t| t + chrono::Duration::days(1)),
        })
    }

    fn ask(&mut self, q: Query) {
        if let Some((tx, _)) = &self.worker
            && tx.send(q).is_ok()
        {
            self.asked = true;
        }
    }

    /// The window; `path` is this console's trail.
    pub fn show(&mut self, ctx: &egui::Context, cx: &FrameCtx, path: Option<PathBuf>) {
        if !self.open {
            return;
        }
        if self.worker.is_none()
            && let Some(p) = path
        {
            self.start(p);
            if let Ok(f) = self.filter() {
                self.ask(Query::Rows(f));
            }
        }
        while let Some(answer) = self.worker.as_ref().and_then(|(_, rx)| rx.try_recv().ok()) {
            match answer {
                Answer::Rows(Ok(mut rows)) => {
                    rows.reverse();
                    self.rows = rows;
                    self.message = None;
                }
                Answer::Rows(Err(e)) => self.message = Some((e, true)),
                Answer::Exported(Ok((n, out))) => {
                    self.message = Some((
                        cx.t_args(
                            "audit_view.exported",
                            &[("rows", &n), ("path", &out.display())],
                        ),
                        false,
                    ))
                }
                Answer::Exported(Err(e)) => self.message = Some((e, true)),
            }
        }
        let mut open = self.open;
        egui::Window::new(cx.t("audit_view.title"))
            .id(egui::Id::NULL.with("audit-view"))
            .open(&mut open)
            .default_width(820.0)
            .show(ctx, |ui| self.body(ui, cx));
        self.open = open;
    }

    fn body(&mut self, ui: &mut egui::Ui, cx: &FrameCtx) {
        ui.label(cx.t("audit_view.explain"));
        let mut changed = false;
        let field = |ui: &mut egui::Ui, key: &'static str, text: &mut String, width: f32| {
            let l = ui.label(cx.t(key));
            ui.add(egui::TextEdit::singleline(text).desired_width(width))
                .labelled_by(l.id)
                .changed()
        };
        ui.horizontal(|ui| {
            changed |= field(ui, "audit_view.who", &mut self.who, 180.0);
            changed |= field(ui, "audit_view.action", &mut self.action, 180.0);
        });
        ui.horizontal(|ui| {
            changed |= field(ui, "audit_view.subject", &mut self.subject, 180.0);
            let l = ui.label(cx.t("audit_view.dates"));
            for text in [&mut self.since, &mut self.until] {
                changed |= ui
                    .add(egui::TextEdit::singleline(text).desired_width(90.0))
                    .labelled_by(l.id)
                    .changed();
            }
        });
        let filter = self.filter();
        if filter.is_err() {
            ui.label(
                RichText::new(cx.t("audit_view.bad_date")).color(crate::ui::theme::colors::ERROR),
            );
        }
        ui.horizontal(|ui| {
            if let Ok(f) = &filter {
                if changed {
                    self.ask(Query::Rows(f.clone()));
                }
                if ui.button(cx.t("audit_view.export")).clicked() {
                    let name = format!(
                        "nhat-ky-kiem-toan-{}.csv",
                        format::to_vietnam_time(cx.now).format("%Y%m%d-%H%M%S")
                    );
                    let out = super::ConsoleApp::exports_dir().join(name);
                    self.ask(Query::Export(f.clone(), out));
                }
                if ui.button(cx.t("audit_view.refresh")).clicked() {
                    self.ask(Query::Rows(f.clone()));
                }
            }
            ui.label(cx.t_args("audit_view.count", &[("n", &self.rows.len())]));
        });
        if let Some((m, bad)) = &self.message {
            let color = if *bad {
                crate::ui::theme::colors::ERROR
            } else {
                crate::ui::theme::colors::TEXT_DIM
            };
            ui.label(RichText::new(m).color(color));
        }
        ui.separator();
        egui::ScrollArea::vertical()
            .max_height(420.0)
            .show(ui, |ui| {
                egui::Grid::new("audit-rows")
                    .striped(true)
                    .num_columns(6)
                    .show(ui, |ui| {
                        for key in [
                            "audit_view.at",
                            "audit_view.who",
                            "audit_view.action",
                            "audit_view.subject",
                            "audit_view.detail",
                            "audit_view.console",
                        ] {
                            ui.strong(cx.t(key));
                        }
                        ui.end_row();
                        for r in self.rows.iter().take(500) {
                            let e = &r.event;
                            let vn = format::to_vietnam_time(e.at);
                            ui.label(format!("{} {}", format::time(vn, true), format::date(vn)));
                            let role = match e.role.as_str() {
                                "operator" => cx.t("role.operator"),
                                "leader" => cx.t("role.leader"),
                                "technician" => cx.t("role.technician"),
                                other => other,
                            };
                            ui.label(format!("{} ({role})", e.who));
                            ui.label(&e.action);
                            ui.label(&e.subject);
                            ui.label(&e.detail);
                            ui.label(&e.console);
                            ui.end_row();
                        }
                    });
            });
    }
}
