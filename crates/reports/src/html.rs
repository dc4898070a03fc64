//! HTML text: escaping, the page frame (navigation, language switch, styles for screen,
//! phone and A4 print) and the live-update script.

use std::fmt::Write;

use crate::i18n::Lang;

/// Text made safe for HTML element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A query-string component, percent-encoded.
pub fn url_part(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => {
                out.push(b as char)
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// A share as a percentage with two decimals, or a dash.
pub fn pct(v: Option<f64>) -> String {
    v.map_or("–".into(), |x| format!("{x:.2}%"))
}

/// A number with two decimals, or a dash.
pub fn num(v: Option<f64>) -> String {
    v.map_or("–".into(), |x| format!("{x:.2}"))
}

/// An integer with thousands separators.
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A level, or a dash.
pub fn level(v: Option<u32>) -> String {
    v.map_or("–".into(), |x| x.to_string())
}

/// The opening of a scrollable table up to its body: `id` (if any), then one column heading
/// per `(label, numeric)`, numeric ones right-aligned.
pub fn table_start(id: Option<&str>, columns: &[(&str, bool)]) -> String {
    let mut s = String::from("<div class=\"scroll\"><table");
    if let Some(id) = id {
        let _ = write!(s, " id=\"{}\"", esc(id));
    }
    s.push_str("><thead><tr>");
    for (label, numeric) in columns {
        let class = if *numeric { " class=\"n\"" } else { "" };
        let _ = write!(s, "<th scope=\"col\"{class}>{}</th>", esc(label));
    }
    s.push_str("</tr></thead><tbody>");
    s
}

/// Where a page is shown: the dashboard (navigation, live updates) or a printed report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Medium {
    Dashboard,
    Print,
}

/// What every dashboard page frame needs to know.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub lang: Lang,
    pub medium: Medium,
    /// The page's own path and query without `lang` (for the language switch).
    pub here: String,
    /// Who is looking: a role name, or `None` for the public.
    pub viewer: Option<String>,
    /// The fiscal year the navigation links keep (C.E.).
    pub fiscal_year: i32,
    /// The log position the page reflects.
    pub head: u64,
}

impl Chrome {
    /// A dashboard link keeping the language and the fiscal year.
    pub fn link(&self, path: &str, query: &[(&str, &str)]) -> String {
        let mut s = format!("{path}?lang={}&fy={}", self.lang.code(), self.fiscal_year);
        for (k, v) in query {
            let _ = write!(s, "&{k}={}", url_part(v));
        }
        esc(&s)
    }
}

const STYLE: &str = r#"
:root{--ink:#1a1a1a;--muted:#4d4d4d;--line:#c8c8c8;--bg:#fff;--accent:#0b4f8a;--good:#1e6b2e;--bad:#a4161a;--warn:#7a4b00;--panel:#f3f5f8}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 "Noto Sans Thai","Sarabun","Tahoma",system-ui,sans-serif;color:var(--ink);background:var(--bg)}
a{color:var(--accent)}
a:focus,button:focus,select:focus,input:focus,th a:focus{outline:3px solid #f0a800;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:4px;z-index:9}
header{background:var(--accent);color:#fff;padding:8px 16px;display:flex;flex-wrap:wrap;gap:8px 24px;align-items:center}
header a{color:#fff}
header .brand{font-weight:700;font-size:1.2em;text-decoration:none}
nav ul{list-style:none;display:flex;flex-wrap:wrap;gap:4px 16px;margin:0;padding:0}
nav a[aria-current=page]{font-weight:700;text-decoration:underline 3px}
.tools{margin-left:auto;display:flex;gap:12px;align-items:center}
main{padding:16px;max-width:1200px;margin:0 auto}
h1{font-size:1.5em;margin:.2em 0 .5em}
h2{font-size:1.2em;margin:1.2em 0 .4em}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px}
.card{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:10px}
.card .v{font-size:1.6em;font-weight:700}
.card .k{color:var(--muted);font-size:.9em}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
th{background:var(--panel)}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.good{color:var(--good)}.bad{color:var(--bad);font-weight:600}.warn{color:var(--warn)}
.flag{display:inline-block;border:1px solid var(--warn);color:var(--warn);border-radius:4px;padding:0 4px;font-size:.8em}
tr.overdue td{background:#fdecea}
.timeline{list-style:none;padding:0;border-left:3px solid var(--accent);margin-left:8px}
.timeline li{margin:0 0 12px 0;padding-left:14px;position:relative}
.timeline li::before{content:"";position:absolute;left:-9px;top:6px;width:12px;height:12px;border-radius:50%;background:var(--accent)}
.meta{color:var(--muted);font-size:.9em}
code,.mono{font-family:ui-monospace,monospace;font-size:.9em;word-break:break-all}
form.inline{display:flex;flex-wrap:wrap;gap:8px;align-items:end}
label{display:flex;flex-direction:column;font-size:.9em}
input,select,button{font:inherit;padding:4px 6px}
svg text{font-family:inherit}
#live-status{font-size:.85em}
.map-layout{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:16px;align-items:start}
svg.map{max-width:100%;height:auto}
.map-table{max-height:85vh;overflow:auto;font-size:.9em}
.map-table th,.map-table td{padding:4px 6px}
@media (max-width:900px){.map-layout{grid-template-columns:minmax(0,1fr)}.map-table{max-height:none}}
footer{color:var(--muted);font-size:.85em;padding:16px;max-width:1200px;margin:0 auto}
@media (max-width:600px){body{font-size:15px}th,td{padding:4px}.tools{margin-left:0}}
@media print{@page{size:A4;margin:14mm}header nav,.tools,.skip,form.inline{display:none}
 body{font-size:11pt}main{padding:0;max-width:none}a{color:inherit;text-decoration:none}
 table{page-break-inside:auto}tr{page-break-inside:avoid}h2{page-break-after:avoid}}
"#;

/// The live-update script: on each new log head, fetch the page again and swap its `<main>`.
const LIVE_SCRIPT: &str = r#"
(function(){
  if(!window.EventSource)return;
  var busy=false,again=false,status=document.getElementById('live-status');
  function refresh(){
    if(busy){again=true;return;}
    busy=true;
    fetch(location.href,{credentials:'same-origin'}).then(function(r){return r.text();}).then(function(t){
      var doc=new DOMParser().parseFromString(t,'text/html');
      var m=doc.querySelector('main'),cur=document.querySelector('main');
      if(m&&cur){cur.replaceWith(m);}
      var s=doc.getElementById('live-status');
      if(s&&status){status.textContent=s.textContent;status.dataset.head=s.dataset.head;}
    }).finally(function(){busy=false;if(again){again=false;refresh();}});
  }
  var es=new EventSource('/dashboard/live');
  es.addEventListener('head',function(e){
    if(status&&status.dataset.head!==e.data){refresh();}
  });
})();
"#;

/// The whole page: frame, navigation, `body` inside `<main>`.
pub fn page(c: &Chrome, title: &str, active: &str, body: &str) -> String {
    let l = c.lang;
    let mut s = String::with_capacity(body.len() + 8192);
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · Rongtook</title><style>{STYLE}</style></head><body>",
        l.code(),
        esc(title)
    );
    if c.medium == Medium::Dashboard {
        let _ = write!(
            s,
            "<a class=\"skip\" href=\"#main\">{}</a><header><a class=\"brand\" href=\"{}\">ร้องทุกข์ Rongtook</a>\
             <nav aria-label=\"{}\"><ul>",
            l.t("ข้ามไปยังเนื้อหา", "Skip to content"),
            c.link("/dashboard", &[]),
            l.t("เมนูหลัก", "Main menu"),
        );
        for (key, path, th, en) in [
            ("overview", "/dashboard", "ภาพรวม", "Overview"),
            ("league", "/dashboard/league", "ตารางอันดับ", "League table"),
            ("overdue", "/dashboard/overdue", "เรื่องเกินกำหนด", "Overdue"),
            ("map", "/dashboard/map", "แผนที่", "Map"),
            (
                "inspection",
                "/dashboard/inspection",
                "ตรวจพื้นที่",
                "Inspection",
            ),
            (
                "oversight",
                "/dashboard/oversight",
                "รายงานกำกับติดตาม",
                "Oversight reports",
            ),
            ("worklist", "/dashboard/worklist", "งานที่ต้องทำ", "Worklist"),
        ] {
            let cur = if key == active {
                " aria-current=\"page\""
            } else {
                ""
            };
            let _ = write!(
                s,
                "<li><a href=\"{}\"{cur}>{}</a></li>",
                c.link(path, &[]),
                l.t(th, en)
            );
        }
        let sep = if c.here.contains('?') { '&' } else { '?' };
        let _ = write!(
            s,
            "</ul></nav><div class=\"tools\"><a id=\"lang-switch\" lang=\"{o}\" hreflang=\"{o}\" href=\"{}\">{}</a>",
            esc(&format!("{}{sep}lang={}", c.here, l.other().code())),
            l.t("English", "ภาษาไทย"),
            o = l.other().code(),
        );
        match &c.viewer {
            Some(role) => {
                let _ = write!(
                    s,
                    "<span>{}: {}</span><form method=\"post\" action=\"/dashboard/logout\" style=\"display:inline\">\
                     <button type=\"submit\">{}</button></form>",
                    l.t("ผู้ใช้", "Signed in as"),
                    esc(role),
                    l.t("ออกจากระบบ", "Sign out")
                );
            }
            None => {
                let _ = write!(
                    s,
                    "<a href=\"{}\">{}</a>",
                    c.link("/dashboard/login", &[]),
                    l.t("เข้าสู่ระบบ", "Sign in")
                );
            }
        }
        s.push_str("</div></header>");
    }
    let _ = write!(s, "<main id=\"main\">{body}</main><footer>");
    let _ = write!(
        s,
        "<span id=\"live-status\" role=\"status\" aria-live=\"polite\" data-head=\"{}\">{} {}</span>",
        c.head,
        l.t("ข้อมูลถึงเหตุการณ์ลำดับที่", "Data up to log position"),
        count(c.head)
    );
    if c.viewer.is_none() && c.medium == Medium::Dashboard {
        let _ = write!(s, " · {}", l.t("ข้อมูลส่วนบุคคลถูกปิดบัง", "personal data hidden"));
    }
    s.push_str("</footer>");
    if c.medium == Medium::Dashboard {
        let _ = write!(s, "<script>{LIVE_SCRIPT}</script>");
    }
    s.push_str("</body></html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            esc(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(
            url_part("district:bang rak/ก"),
            "district:bang%20rak%2F%E0%B8%81"
        );
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(count(12), "12");
    }
}
